"""Weighted cue lexicons for reply intents (data only; the logic is in classifier.py).

Patterns match the output of `normalize()`: lower-case, simplified Chinese,
half-width ASCII, emoji as the tokens emopos / emoneg / emook. Each cue is
(regex, weight, on_negation): on_negation None means a negator before the cue
is ignored (the cue already contains its own negation), CANCEL means a negator
removes the cue, and an intent name means a negated cue votes for that intent
instead ("不满意" → negative, "not unhappy" → positive, "don't stop" → opt_in).
A weight of 1.0 or more is a strong cue: enough on its own to decide.
"""

from __future__ import annotations

from typing import Final

Cue = tuple[str, float, str | None]
CANCEL: Final = ""

INTENTS: Final = (
    "not_me",
    "complaint",
    "negative",
    "callback_request",
    "reschedule",
    "wrong_person",
    "opt_out",
    "opt_in",
    "help",
    "positive",
    "neutral",
)

# Touch kinds that ask the customer to confirm an action on their account: a bare
# denial ("不是我", "no") answering one of these means someone else did it.
IDENTITY_KINDS: Final = frozenset({"new_account", "asset_movement", "account_closed"})
# Greetings: a denial answering one of these means the message reached the wrong person.
GREETING_KINDS: Final = frozenset({"birthday", "holiday", "tier_care"})


def en(pattern: str) -> str:
    """Wrap an English pattern in ASCII word boundaries (Python's \\b treats 汉字 as letters)."""
    return rf"(?<![a-z0-9])(?:{pattern})(?![a-z0-9])"


# Negators and the words containing a negator character that negate nothing.
ZH_NEGATORS: Final = "不没别未无非勿莫甭唔"
ZH_NOT_NEGATIONS: Final = (
    "非常|不错|不好意思|不客气|不用谢|没问题|没事|不过|无论|别人|别家|差不多|不少|不断|"
    "无比|未来|不仅|莫名|无语|不怎么样|"
    + en("no thanks?|no thank you|no problem|no worries|not only|no doubt")
)
EN_NEGATORS: Final = frozenset(
    "not no never dont don't didnt didn't doesnt doesn't isnt isn't wasnt wasn't arent aren't "
    "wont won't cant can't cannot without hardly nothing".split()
)
# A negator reaches a cue only inside its clause.
CLAUSE_BREAK: Final = r"[,.!?;:\n]|但是|但|可是|不过|就是|只是|" + en("but|however|though")
ZH_NEGATION_WINDOW: Final = 3
EN_NEGATION_WINDOW: Final = 3

# Whole-message keywords (Twilio style: the message is the keyword, any case,
# with punctuation, emoji and politeness around it).
OPT_OUT_KEYWORDS: Final = (
    "td|t|退订|退定|退|stop|stopall|unsubscribe|unsub|cancel|end|quit|revoke|optout|取消订阅|拉黑"
)
OPT_IN_KEYWORDS: Final = "start|unstop|subscribe|resubscribe|optin|订阅|恢复订阅|重新订阅|取消退订"
HELP_KEYWORDS: Final = "help|helpme|ineedhelp|needhelp|info|帮助|求助"
KEYWORD_FILLERS: Final = (
    r"please|pls|plz|again|thanks|thank you|thx|reply|回复|回|谢谢|谢了|多谢|请|麻烦|吧|啊|呀|了|"
    r"emopos|emoneg|emook"
)

# One cue per line reads as a table; the formatter would split each over five lines.
# fmt: off
CUES: Final[dict[str, list[Cue]]] = {
    "not_me": [
        (r"(不是|并非|非)(我|本人)(本人|自己)?(亲自)?(的)?(操作|转|弄|办|做|授权|申请|交易|买|卖|提|取|销)", 2.0, None),
        (r"(没|未|从没|从来没)(有)?(过)?.{0,4}?(转账|转过|转出|转钱|出金|取款|提现|操作|销户|授权|动过|取过)", 2.0, None),
        (r"被盗|盗用|盗刷|被黑|被hack|被(别)?人(转|登|操作|用|盗|卖|买|动|取|拿|开)|有人(登|用|动|操作|转|开|卖|买|盗)|冒用|冒名|冒充我|身份.{0,3}被|不知情", 2.0, None),
        (r"被骗|上当了|钱.{0,4}(不见|没了|少了|被转)|少了\d+万", 1.8, None),
        (r"谁(用|给|帮|把|动|转)[^,.?!]{0,8}(转|开|销|取|卖|买|操作|户|钱)", 1.5, None),
        (en(r"(not|wasn'?t|weren'?t) (made |done |authori[sz]ed )?by me"), 2.0, None),
        (en(r"(didn'?t|did not|never|have not|haven'?t) (make|made|do|did|authori[sz]ed?|request(ed)?|transfer(red)?|withdr[ae]wn?|move[d]?|sell|sold|buy|bought|trade[d]?|close[d]?)"), 2.0, None),
        (en(r"not my (transfer|transaction|withdrawal|account|trade)|(don'?t|do not) recogni[sz]e|missing from my account|unauthori[sz]ed|hack(ed|er)?|stole|stolen|identity theft|compromised|fraud(ulent)?"), 1.8, None),
        (en(r"someone (else )?(has |may have |might have )?(opened|logged|accessed|used|moved|took|transferred|hacked|stole)"), 2.0, None),
    ],
    "complaint": [
        (r"投诉|投述|12386|12315|12378|证监|银保监|金融监管|金融局|监管|举报|维权|起诉|告你们|去告|律师|法院|法律|诉讼|打官司|仲裁|信访|消协|消费者协会|工信部|黑猫|曝光|媒体|欺诈", 2.0, CANCEL),
        (r"报警|315|找(你们)?领导|说法|赔偿|索赔", 1.0, CANCEL),
        (r"向.{0,8}反映|有关部门|上级部门", 1.5, CANCEL),
        (en(r"complain(t|ts|ed|ing)?|regulators?|regulatory|authorities|csrc|sfc|finra|ombudsman|lawyers?|attorney|solicitor|sue|lawsuit|court|legal action"), 2.0, CANCEL),
        (en(r"report(ing)? (you|this|it|your)|escalate|escalating|compensation"), 1.2, CANCEL),
    ],
    "negative": [
        (r"卡死|卡顿|太卡|好卡|很卡|卡得|闪退|崩溃|崩了|又崩|死机|登(录|陆)?不(上|了|进)|进不去|打不进去?|出问题|出错|打不开|用不了|连不上|打不通|找不到人|没人(接|理|管|回)|延迟|难用|不好用|不好使|报错|故障", 1.5, None),
        (r"差劲|太差|很差|真差|越来越差|垃圾|烂|坑|割韭菜|忽悠|骗人|敷衍|恶劣|糟糕|不负责|不专业|什么专业|不靠谱|乱收费|一般般|不怎么样|马马虎虎|效率.{0,2}低|等(了)?半天", 1.5, None),
        (r"(?<![多幸])亏|被套|套牢|绿了|跌|赔了|赔钱|穷|破产|血本无归|被收割", 1.2, None),
        (r"(佣金|手续费|费用|费率|收费).{0,6}(高|贵)|太贵|转户", 1.2, None),
        (r"不满意|失望|不满|生气|气死|郁闷|无语|后悔|烦死|难受|心累|心塞|伤心|绝望|不好(?!意思)", 1.2, "positive"),
        (r"呵呵|(?<!相)差(?!不多|距)|慢(?!慢)|太低", 0.6, None),
        (r'"[^"]{1,8}"', 0.8, None),  # scare quotes: 真是"好"啊, your "advice"
        (en(r"crash(es|ed|ing)?|lag(s|gy|ging)?|slow|fro(ze|zen)|freez(e|es|ing)|bug(s|gy)?|glitch(es|y)?|broken|(doesn'?t|does not|not) work(ing)?|error"), 1.2, None),
        (en(r"terrible|awful|horrible|worst|bad|poor|useless|rubbish|garbage|crap|pathetic|sucks?|waste|ridiculous|joke|rude|unprofessional|incompetent|unreliable"), 1.2, "positive"),
        (en(r"disappoint(ed|ing)?|frustrat(ed|ing)|annoy(ed|ing)|unhappy|upset|angry|hate|unacceptable|dissatisfied"), 1.2, "positive"),
        (en(r"lost|lose|losing|losses|rip-?off|overpriced|too (high|expensive)|expensive"), 1.2, None),
        (en(r"(can'?t|cannot|unable to) (log ?in|sign ?in|access|connect)|nobody (ever )?(answers|picks up|replies|calls)|never (answer|reply|replies|call)"), 1.5, None),
        ("emoneg", 0.8, None),
    ],
    "callback_request": [
        (r"回(个)?电(话)?|(给|帮)我(打|回)(个)?电话|打(个)?电话给我|打给我|打我电话|联系我|call ?我|(?<![a-z])(hd|dh)(?![a-z])", 1.5, "neutral"),
        (r"有人吗|咨询|请教|想问|想了解|想知道|了解一下|问一下|问问|请问|问个|聊聊|谈谈|面谈|有个事|确认一下|帮我(查|看|处理|办|弄)|查一下|找(个)?人|我想(申请|办|开|买|转|改|提高|调整|修改)", 1.2, None),
        (r"(?<!不)怎么|如何|怎样|能不能|可不可以|能否|可否|有没有|是不是|多少|可以.{0,8}吗|什么(情况|条件|流程|时候)|吗[?]?$|\?$", 0.9, None),
        (r"开通|办理|申购|转托管|融资融券|两融|科创板|创业板|港股|销户|密码|重置|限额|银行卡|分红|佣金.{0,4}(降|调|低|优惠)|理财|推荐|持仓|客户经理", 0.5, None),
        (en(r"call me|call back|give me a call|ring me|contact me|get in touch|reach me"), 1.5, "neutral"),
        (en(r"(talk|speak) (to|with) (someone|somebody|a person|an agent|a human|my|your)|i have a question|question about|need help with|can i ask|(want|like) to know|tell me about|interested in|explain"), 1.5, None),
        (en(r"(how|where|what|when|which|why|can|could|is it possible|do you|does)") + r".{0,60}\?", 1.0, None),
        (en(r"how (do|can|to) i?|margin|commission|password|fees|products?|transfer my account|ipo"), 0.5, None),
    ],
    "reschedule": [
        (r"开会|忙完|忙好|等我|在忙|很忙|正忙|忙着|忙呢|现在忙|有点忙|开车|不方便|没空|没时间|在上班|上班中|在外面|在外地|出差|出国|在国外|在医院|在路上|在飞机|在高铁|在火车|在地铁|在上课|上课中|在吃饭|在睡觉|信号不好|听不清|改天|晚点|晚一点|晚些|稍后|等会|等下|等一下|过会|一会儿|回头(再)?(说|聊|联系)|下次再", 1.5, CANCEL),
        (en(r"busy|in a meeting|meeting now|driving|not a good time|bad time|can'?t talk|cannot talk|ttyl|another time|some other time|travell?ing|abroad|overseas|on holiday|on vacation|on the road|at work|not now|later"), 1.5, CANCEL),
        (r"有空|有时间", 0.6, CANCEL),
    ],
    "wrong_person": [
        (r"发错|找错|打错|搞错人|错号|认错人|我?不叫|号码?.{0,4}(换人|换主人|换了主人)|我不姓|不认识|没(有)?这个人|查无此人|不是你们?要找的(人)?|找的人不是我", 1.8, None),
        (r"不是(你们|贵公司|贵司)的?(公司)?的?客户|我不是(你们|贵公司|贵司)?的?(公司)?的?客户|我不是(什么)?[\u4e00-\u9fff]{1,3}(先生|女士|小姐|经理|总)|这(个)?(号码?|手机|电话)?不是[\u4e00-\u9fff]{1,4}的(号码?|手机|电话)|号码?不是(他|她)的", 1.8, None),
        (r"(他|她)的?手机.{0,6}(我在用|给我了)|(新办|刚买|刚换|新换)的?(号|手机|号码)|号(是)?我(刚|新)", 1.2, None),
        (en(r"wrong (number|person|guy|recipient|contact|#|no)|don'?t know (anyone|anybody|any) (by|with|called|named)|not the (person|one) you|not (your|a) (client|customer)|new number|don'?t know (who|this person|him|her)|(isn'?t|not|wasn'?t) (meant )?for me|(doesn'?t|does not|no longer) belongs?"), 1.8, None),
        (en(r"(isn'?t|is not|not) [a-z .]{1,25}'s (phone|number|mobile)"), 1.8, None),
    ],
    "opt_out": [
        (r"退订|退定|(?<![a-z])td(?![a-z])", 1.5, "opt_in"),
        (r"(天天|老是|一直|总是|每天)(都)?发", 1.2, None),
        (r"取消订阅|拉黑|屏蔽|免打扰|停发|(别|不要|不用|勿|停止|不想|唔好|唔使)再?(给我)?(发|传|send|推送|打扰|骚扰)|不想(再)?收到|(别|不要)再?(骚扰|烦我)|(把我|我的号码?).{0,6}(删|移除|去掉)|(取消|关闭)(推送|通知|短信)", 1.8, None),
        (r"骚扰|垃圾短信|营销短信|广告|滚", 0.8, None),
        (en(r"unsubscribe|unsub|opt ?-?out|take me off|remove (me|my)|delete my (number|details)|no more (texts?|messages?|sms|emails?|spam)|any ?more (texts?|messages?|sms|emails?)|leave me alone|do not disturb"), 1.8, "opt_in"),
        (en(r"stop (texting|sending|messaging|contacting|calling|spamming|emailing)|(don'?t|do not|never) (text|message|contact|email|sms) me"), 1.8, "opt_in"),
        (r"(^|[,.!?] ?)stop( it| now| please| pls| already)?[.!]?$", 1.8, None),
        (en(r"(don'?t|do not) want") + r".{0,30}" + en(r"messages?|texts?|sms|emails?|updates|notifications"), 1.8, None),
        (en(r"spam(ming)?"), 0.8, None),
    ],
    "opt_in": [
        (r"取消退订|(误|不小心|不是故意|点错|手滑).{0,3}退订|(恢复|重新|继续)(订阅|接收|发送|推送)|(重新|继续|还想|还是想|想继续|可以继续)(给我)?(发|收到|接收|推送)|继续.{0,3}发", 2.0, "opt_out"),
        (r"订阅", 1.2, "opt_out"),
        (en(r"opt (me )?(back )?in|resubscribe|re-subscribe|subscribe me|(add|sign) me (back|up)|resume|keep (sending|texting)|unsubscribed by mistake"), 2.0, "opt_out"),
        (en(r"(receive|get) .{0,25} again|subscribe"), 1.0, "opt_out"),
    ],
    "help": [
        (r"你们?是(谁|哪|什么)|哪(家|个)(公司|券商|机构|营业部|证券|单位)|什么(单位|机构|公司)|哪里的|(哪里|谁)发的|(电话|热线|号码|地址)(是)?(多少|几号|是什么|在哪)|营业部.{0,3}(在哪|地址)|怎么(联系|找到?)(你们|营业部|客服)|这(个)?是(什么|谁的|哪里的?)(号码?|电话|短信|信息|消息)|你哪位", 1.8, None),
        (en(r"who (is this|are (you|u)|sent (me )?this|is texting)|who'?s this|what'?s this (number|message|about)|what company|which (company|branch|broker|firm)|what(')?s your (phone|contact|customer service|hotline)|(your|customer service|hotline|contact) (phone )?number|how (can|do) i (contact|reach)|where is your (branch|office)|what is this"), 1.8, None),
    ],
    "positive": [
        (r"谢谢|多谢|感谢|谢|(?<!不)满意|愉快|不错|挺好|很好|真好|好评|专业|贴心|周到|耐心|热情|靠谱|给力|点赞|赞|棒|辛苦了|有心了|费心了|快乐|同乐|同祝|也祝|祝福|万事如意|身体健康|恭喜|发财|越来越好|赚|开心|高兴|喜欢|哈哈", 1.2, "negative"),
        (en(r"thanks?|thank you|thx|ty|cheers|appreciated?|excellent|great|good|nice|kind|love|lovely|satisfied|pleased|glad|happy|impressed|same to you|all good|awesome|amazing|fantastic|brilliant|perfect|helpful|professional|wonderful|best wishes|merry"), 1.2, "negative"),
        (en(r"no complaints?"), 1.5, None),
        ("emopos", 1.0, None),
    ],
    "neutral": [
        (r"收到|收悉|好的|好吧|^好[.!]?$|^好(嘞|哒|滴|哦|呀|啊)|^嗯|^哦|^噢|已阅|已读|^ok|^行[.!]?$|^行吧|^对[,.!]?$|^对(的|啊|呀)|是的|^可以[.!]?$|可以的|没问题|没事|晓得", 1.0, None),
        (r"知道|了解|明白", 1.0, CANCEL),
        (r"是我(本人|自己)?(开|转|操作|办|弄|做)|(对|是的?),?是我|^是我|本人操作", 1.2, CANCEL),
        (en(r"ok(ay|ie|ey)?|kk?|noted|got it|sure|yes|yep|yup|yeah|fine|received|alright|understood|roger|cool|will do|no thanks|no thank you"), 1.0, CANCEL),
        (en(r"(that|it|this) (was|is) me|i (opened|made|did|requested) (it|this|that)|it'?s mine"), 1.2, CANCEL),
        ("emook", 1.0, None),
    ],
}
# fmt: on

# Evidence that only means something together with the touch kind.
PERSON_DENIAL: Final = r"(?<!是)不是(我|本人)(?!们)|" + en(
    r"not me|wasn'?t me|wasnt me|isn'?t me|it'?s not me"
)
ACCOUNT_DENIAL: Final = (
    r"没.{0,6}?(开户|开过户|开过账户|开过|开的户|注册过|去过)|(不是|并非|非)(我|本人)(本人|自己)?开|"
    r"没(有)?申请过|谁.{0,6}开的户|"
    + en(
        r"(never|didn'?t|did not|have not|haven'?t) (opened|open|signed up|sign up|registered|register|applied|apply)"
    )
)
BARE_DENIAL: Final = (
    r"^(没有|没|不是|不是的|否|no|nope|nah)(啊|呀|哦|的)?[!.?]*$|"
    r"不知道|不清楚|不晓得|不记得|没印象|什么转账|啥转账|哪(来|里来)的(转账|钱)|"
    + en(r"what transfer|which transfer|didn'?t do anything|no idea what")
)
# On an identity touch, a negation next to the customer ("我完全没印象", "I don't
# recognise") is a weak not_me: weak so that "我没时间" stays a reschedule.
IDENTITY_WEAK_DENIAL: Final = (
    r"(我|本人).{0,4}(没(?!问题|事)|不(?!错|客气|好意思|用谢)|未)|(没|不是|非)(我|本人)|"
    + en(r"not my|(i|we) (don'?t|do not|didn'?t|did not|never)")
)
# Time words make a reply a reschedule when combined with a contact verb or busyness.
TIME_WORDS: Final = (
    r"今天|明天|明早|明晚|后天|今晚|上午|下午|中午|晚上|傍晚|早上|下班|"
    r"(周|星期|礼拜)[一二三四五六日天末1-7]|下(个)?(周|星期|礼拜)|下个?月|"
    r"(?<![有好快慢差多少低高这降涨调])([零一二两三四五六七八九十]{1,3}|\d{1,2})点(?=钟|半|后|以后|之后|前|左右|多|\d|[一二三四五六七八九十]|[,.!?]|再|打|给|联系|$)|"
    r"\d{1,2}:\d{2}|([一二两三四五六七八九十半\d]+)个?(小时|钟头|分钟|天)(后|以后|之后)|过([一二两三四五六七八九十半\d]+)个?(小时|钟头|分钟|天)|"
    + en(
        r"tomorrow|tonight|morning|afternoon|evening|next week|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|\d{1,2}(:\d\d)? ?(am|pm)|in (an|one|two|\d+|half an) (hours?|minutes?|mins?|hrs?)|after \d"
    )
)
CONTACT_WORDS: Final = (
    r"再(联系|打|说|聊|约|回|谈|来电)|打(给|过来|我)|联系|回(你|复|电)|call|有空|可以|"
    + en(r"call|ring|contact|talk|try again|try me|reach|text")
)
# Capitalised name after "I'm not" / "who is": checked on the un-lowered text.
RAW_WRONG_PERSON: Final = r"\b(I'?m|I am|this is) not (Mr\.?|Mrs\.?|Ms\.?|Miss|Dr\.?)?\s?[A-Z][a-z]+\b|\bwho is [A-Z][a-z]+\b"
RAW_NAME_STOPWORDS: Final = frozenset(
    {"I", "It", "The", "This", "That", "A", "An", "Sure", "Happy", "Interested"}
)
