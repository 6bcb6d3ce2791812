"""Every string the console shows, Simplified Chinese first, English second, in one table.

Templates call `t("key")` (and `t("key", name=…)` for `{name}` placeholders); Python code
takes a translator from `translator(lang)`. A missing key shows as the key itself, so a
forgotten string is visible on the page rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("zh-CN", "en")
DEFAULT_LANG = "zh-CN"
LANG_COOKIE = "outreach_lang"

Translate = Callable[..., str]

STRINGS: dict[str, tuple[str, str]] = {
    "app.title": ("客户回访工作台", "Outreach console"),
    "nav.home": ("首页", "Home"),
    "nav.queue": ("回访队列", "Callback queue"),
    "nav.password": ("修改密码", "Change password"),
    "nav.enrol": ("设置两步验证", "Set up two-step verification"),
    "nav.logout": ("退出登录", "Sign out"),
    "nav.switch_lang": ("English", "中文"),
    "login.title": ("员工登录", "Staff sign-in"),
    "login.username": ("用户名", "Username"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.failed": ("用户名或密码错误。", "Wrong username or password."),
    "login.failed_wait": ("用户名或密码错误。请 {seconds} 秒后再试。",
                          "Wrong username or password. Try again in {seconds} s."),
    "login.throttled": ("失败次数过多，请 {seconds} 秒后再试。",
                        "Too many failed attempts. Try again in {seconds} s."),
    "login.locked": ("账户已锁定，请联系管理员解锁。",
                     "This account is locked. Ask an administrator to unlock it."),
    "login.refused": ("该角色无权使用工作台。", "This role has no access to the console."),
    "login.expired": ("您已因长时间未操作而退出，请重新登录。",
                      "You were signed out after a period of inactivity. Please sign in again."),
    "login.ended": ("您的会话已结束，请重新登录。", "Your session has ended. Please sign in again."),
    "login.signed_out": ("您已退出登录。", "You have signed out."),
    "totp.title": ("两步验证", "Two-step verification"),
    "totp.code": ("验证码（6 位数字）", "Code (6 digits)"),
    "totp.hint": ("请输入身份验证器应用中显示的验证码。",
                  "Enter the code your authenticator app shows."),
    "totp.submit": ("验证", "Verify"),
    "totp.failed": ("验证码错误。", "Wrong code."),
    "enrol.title": ("设置两步验证", "Set up two-step verification"),
    "enrol.required": ("您的角色必须使用两步验证，请先完成设置。",
                       "Your role requires two-step verification: set it up to continue."),
    "enrol.scan": ("请用身份验证器应用（如 Microsoft Authenticator、Google 身份验证器）扫描二维码，然后输入应用显示的验证码。",
                   "Scan the QR code with an authenticator app (Microsoft Authenticator, Google Authenticator…), then enter the code it shows."),
    "enrol.manual": ("无法扫描时，请手动输入密钥：", "If you cannot scan, type this key:"),
    "enrol.failed": ("验证码不匹配，请检查手机时间后重试。",
                     "The code does not match: check the phone's clock and try again."),
    "enrol.done": ("两步验证已启用。", "Two-step verification is on."),
    "enrol.already": ("您已启用两步验证。", "Two-step verification is already on."),
    "password.title": ("修改密码", "Change password"),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码（至少 8 位）", "New password (at least 8 characters)"),
    "password.confirm": ("再次输入新密码", "New password again"),
    "password.submit": ("修改", "Change"),
    "password.mismatch": ("两次输入的新密码不一致。", "The two new passwords differ."),
    "password.wrong": ("当前密码错误。", "The current password is wrong."),
    "password.same": ("新密码不能与当前密码相同。", "The new password is the current one."),
    "password.short": ("新密码至少需要 8 位。", "The new password needs at least 8 characters."),
    "password.done": ("密码已修改，其他设备上的会话已退出。",
                      "Password changed; your sessions elsewhere have ended."),
    "everywhere.hint": ("在所有设备（包括本设备）上退出登录。",
                        "Sign out on every device, this one included."),
    "everywhere.submit": ("全部退出", "Sign out everywhere"),
    "home.title": ("首页", "Home"),
    "home.signed_in": ("当前登录：{username}（{role}）", "Signed in as {username} ({role})"),
    "queue.open": ("进入回访队列", "Open the callback queue"),
    "role.agent": ("回访专员", "agent"),
    "role.hq_agent": ("总部回访专员", "head-office agent"),
    "role.branch_admin": ("营业部管理员", "branch admin"),
    "role.compliance": ("合规", "compliance"),
    "role.admin": ("系统管理员", "admin"),
    # --- the queue and the callback page ---
    "queue.title": ("回访队列", "Callback queue"),
    "queue.new_p0": ("有新的 P0 回访（客户否认操作），请立即处理。", "A new P0 callback (a customer denies an operation): handle it now."),
    "queue.claim_next": ("领取下一条", "Claim next"),
    "queue.mine": ("我手上的回访", "Callbacks I hold"),
    "queue.priority": ("优先级", "Priority"),
    "queue.customer": ("客户", "Customer"),
    "queue.reasons": ("原因", "Reasons"),
    "queue.sla": ("处理时限", "Due by (SLA)"),
    "queue.phone": ("电话", "Phone"),
    "queue.call_at": ("建议致电时间", "Suggested call time"),
    "queue.status": ("状态", "Status"),
    "queue.breached": ("已超时", "overdue"),
    "queue.none": ("队列中没有待处理的回访。", "No open callbacks."),
    "queue.empty": ("暂时没有您可以领取的回访。", "Nothing for you to claim right now."),
    "queue.back": ("返回队列", "Back to the queue"),
    "status.open": ("待领取", "open"),
    "status.claimed": ("处理中", "claimed"),
    "status.done": ("已完成", "done"),
    "status.unreachable": ("无法联系", "unreachable"),
    "refused.title": ("无法查看", "Not available"),
    "callback.title": ("回访", "Callback"),
    "callback.sla": ("处理时限", "Due by"),
    "callback.reasons": ("原因", "Reasons"),
    "callback.flagged": ("已标记合规复核", "flagged for compliance"),
    "callback.customer": ("客户信息", "Customer"),
    "callback.customer_id": ("客户号", "Customer ID"),
    "callback.phone": ("电话", "Phone"),
    "callback.reveal": ("显示完整号码", "Show the full number"),
    "callback.call_at": ("建议致电时间", "Call at"),
    "callback.asked": ("（客户约定的时间）", "(the time the customer asked for)"),
    "callback.consent": ("营销同意", "Marketing consent"),
    "consent.yes": ("已同意", "given"),
    "consent.no": ("未同意或已退订", "not given or withdrawn"),
    "callback.addresses": ("联系方式", "Addresses"),
    "callback.account": ("账户", "Account"),
    "callback.opened": ("开户", "opened"),
    "callback.last_trade": ("最近交易", "last trade"),
    "callback.script": ("回访话术", "Call script"),
    "callback.conversation": ("往来消息", "Messages"),
    "direction.in": ("客户回复", "Customer"),
    "direction.out": ("我们发出", "Us"),
    "callback.cues": ("判断依据", "Why"),
    "callback.no_messages": ("没有往来消息。", "No messages."),
    "callback.history": ("回访记录", "Earlier calls"),
    "callback.keep": ("仍在处理（延长领取）", "Still working on it"),
    "callback.release": ("放回队列", "Give back"),
    "callback.kept": ("已延长领取时间。", "Your claim is kept."),
    "outcome.title": ("记录回访结果", "Record the outcome"),
    "outcome.method": ("回访方式", "Method"),
    "method.phone": ("电话", "Phone"),
    "method.sms": ("短信", "SMS"),
    "method.email": ("邮件", "Email"),
    "method.visit": ("面访", "Visit"),
    "outcome.result": ("结果", "Outcome"),
    "outcome.resolved": ("已解决", "Resolved"),
    "outcome.follow_up": ("约定再次联系", "Follow up at an agreed time"),
    "outcome.no_answer": ("无人接听", "No answer"),
    "outcome.wrong_number": ("号码错误", "Wrong number"),
    "outcome.complaint_registered": ("已登记投诉", "Complaint registered"),
    "outcome.dialled": ("拨打的号码", "Number dialled"),
    "outcome.recording": ("录音编号", "Recording reference"),
    "outcome.identity": ("身份核实", "Identity"),
    "identity.customer": ("客户本人", "The customer"),
    "identity.authorised_agent": ("授权代理人", "Authorised agent"),
    "identity.not_verified": ("未核实", "Not verified"),
    "outcome.follow_up_at": ("约定时间", "Agreed time"),
    "outcome.points": ("新开户合规确认", "New-account checks"),
    "answer.yes": ("是", "Yes"),
    "answer.no": ("否", "No"),
    "outcome.notes": ("备注", "Notes"),
    "outcome.save": ("保存结果", "Save"),
    "outcome.saved": ("回访结果已保存。", "The outcome is saved."),
    "intent.not_me": ("否认操作", "denies an operation"),
    "intent.complaint": ("投诉", "complaint"),
    "intent.negative": ("不满", "unhappy"),
    "intent.callback_request": ("要求回电", "asks for a call"),
    "intent.reschedule": ("改约时间", "asks for another time"),
    "intent.wrong_person": ("非本人号码", "wrong person"),
    "intent.opt_out": ("退订", "opt-out"),
    "intent.opt_in": ("恢复订阅", "opt-in"),
    "intent.help": ("咨询帮助", "help"),
    "intent.positive": ("正面", "positive"),
    "intent.neutral": ("中性", "neutral"),
    "reason.unsure_reply": ("回复含义不明确", "reply unclear"),
    "reason.unanswered_new_account": ("新开户回访未回复", "new account: no reply"),
    "reason.unanswered_dormancy": ("流失回访未回复", "dormant: no reply"),
    "reason.new_account_undeliverable": ("新开户回访无法送达", "new account: undeliverable"),
    "reason.dormancy_undeliverable": ("流失回访无法送达", "dormant: undeliverable"),
    "reason.new_account_opted_out": ("新开户客户已退订，需电话回访", "new account opted out: call"),
}


def pick_lang(asked: str | None) -> str | None:
    """The console language named by `?lang=` or the cookie (zh, zh-CN, en), else None."""
    if not asked:
        return None
    if asked.lower().startswith("zh"):
        return "zh-CN"
    return "en" if asked.lower().startswith("en") else None


def translator(lang: str) -> Translate:
    """`t(key, **values)` for one language."""
    index = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        text = STRINGS[key][index] if key in STRINGS else key
        return text.format(**values) if values else text

    return t
