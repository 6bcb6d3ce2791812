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
    "home.placeholder": ("回访队列即将在此显示。", "The callback queue will appear here."),
    "role.agent": ("回访专员", "agent"),
    "role.hq_agent": ("总部回访专员", "head-office agent"),
    "role.branch_admin": ("营业部管理员", "branch admin"),
    "role.compliance": ("合规", "compliance"),
    "role.admin": ("系统管理员", "admin"),
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
