"""The call script (话术) an agent follows, from the rulebooks (DOMAIN.md "call script").

Introduce yourself, verify you speak with the customer (or a notarised agent), ask whether
now is convenient (if not, ask when and record it), the questions of the touch kind, thank
them, record the outcome at once. For a new account the call confirms the compliance points;
each is a yes/no answer on the outcome form, and a "no" raises a compliance flag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CompliancePoint:
    """A yes/no question of a new-account call; "no" means something went wrong."""

    code: str
    zh: str
    en: str


#: DOMAIN.md: 本人意愿, 风险揭示, no 承诺收益 / 代客操作 / 私下收费 (asked so that "yes" is fine).
NEW_ACCOUNT_POINTS: tuple[CompliancePoint, ...] = (
    CompliancePoint("own_will", "开户是否出于您本人的意愿？",
                    "Did you open the account of your own will?"),
    CompliancePoint("risks_explained", "开户时工作人员是否向您揭示了证券投资的风险？",
                    "Were the risks of securities investment explained to you?"),
    CompliancePoint("no_promised_returns", "是否没有任何人向您承诺投资收益？",
                    "Is it right that nobody promised you returns?"),
    CompliancePoint("no_trading_for_you", "是否没有工作人员代您操作账户或下单？",
                    "Is it right that no staff member traded on your behalf?"),
    CompliancePoint("no_private_fees", "是否没有工作人员私下向您收取费用？",
                    "Is it right that no staff member charged you fees privately?"),
)

_OPENING = {
    "zh-CN": ("您好！我是{branch}的回访专员{agent}（工号{agent_id}）。",
              "请问您是{honorific}本人吗？",
              "请问您现在方便接听电话吗？耽误您两分钟。"
              "（不方便：请问什么时候打给您合适？记下时间，致歉后挂线。）"),
    "en": ("Hello, this is {agent} (staff ID {agent_id}) calling from {branch}.",
           "Am I speaking with {honorific}?",
           "Is now a good time? It takes two minutes. "
           "(If not: when may we call you? Note the time, apologise and end the call.)"),
}
_QUESTIONS = {
    "zh-CN": {
        "dormancy": ("我们注意到您近期没有交易，请问是否遇到了什么问题，或有什么需要我们协助的？",),
        "complaint": ("您反映的问题我们很重视，请您具体说一说情况。",),
        "default": ("请问您对我们营业部员工的服务态度满意吗？", "请问您对员工的专业水平满意吗？",
                    "请问您对我们公司还有什么意见或建议？"),
    },
    "en": {
        "dormancy": ("We noticed you have not traded lately: is anything wrong, "
                     "or can we help with something?",),
        "complaint": ("We take what you told us seriously; could you tell me what happened?",),
        "default": ("Are you satisfied with our staff's service?",
                    "Are you satisfied with their expertise?",
                    "Is there anything you would like us to improve?"),
    },
}
_CLOSING = {
    "zh-CN": "感谢您抽出时间接受回访，祝您生活愉快，再见！（挂线后立即记录回访结果。）",
    "en": "Thank you for your time. Goodbye! (Record the outcome right after the call.)",
}


@dataclass(frozen=True, slots=True)
class CallScript:
    """What the agent says, in order, and the yes/no points the outcome form asks."""

    steps: tuple[str, ...]
    points: tuple[CompliancePoint, ...]


def call_script(kind: str | None, locale: str, *, branch: str, agent: str, agent_id: str,
                honorific: str) -> CallScript:
    """The script for a callback about `kind` (new_account, dormancy, complaint, …)."""
    lang = "en" if locale == "en" else "zh-CN"
    fill = {"branch": branch, "agent": agent, "agent_id": agent_id, "honorific": honorific}
    opening = tuple(line.format(**fill) for line in _OPENING[lang])
    if kind == "new_account":
        points = NEW_ACCOUNT_POINTS
        questions = tuple(p.en if lang == "en" else p.zh for p in points)
    else:
        points = ()
        questions = _QUESTIONS[lang].get(kind or "", _QUESTIONS[lang]["default"])
    return CallScript((*opening, *questions, _CLOSING[lang]), points)
