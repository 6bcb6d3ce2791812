"""An HTML mail body reduced to the text a reader sees, quoted history and signatures left out.

Mail clients mark what they quote: a whole element (Gmail's `gmail_quote`, Apple's and
NetEase's `<blockquote>`, QQ's and Foxmail's `<includetail>`, a signature `div`) is skipped;
a marker after which everything is the original (Outlook's `#divRplyFwdMsg`, new Outlook's
`#mail-editor-reference-message-container`) ends the text. Markers that are only text (QQ's
styled "原始邮件" div, Outlook desktop's 发件人: block) are cut later, on the text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements skipped with everything inside them.
_SKIP_TAGS = frozenset({"style", "script", "head", "title", "blockquote", "includetail"})
_SKIP_CLASSES = frozenset({
    "gmail_quote", "gmail_quote_container", "gmail_extra", "gmail_attr", "gmail_signature",
    "gmail_signature_prefix", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote",
    "zmail_extra", "referencequote", "ms-outlook-mobile-signature",
})
_SKIP_IDS = re.compile(
    r"^(?:x_)*(?:isreplycontent|isforwardcontent|origbody|reply139content|orimsghtmlseperator"
    r"|ntes-\w+-quote|.*signature.*)$", re.IGNORECASE)
#: Elements after which everything is the original message.
_STOP_IDS = re.compile(
    r"^(?:x_)*(?:divrplyfwdmsg|mail-editor-reference-message-container|stopspelling"
    r"|replysplit|zwchr)$", re.IGNORECASE)
_VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base",
                   "source", "embed", "param", "track"})
_BLOCK = frozenset({"p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5",
                    "h6", "pre", "hr", "center", "section", "article", "header", "footer", "dl",
                    "dt", "dd", "address", "form", "fieldset", "tbody", "thead"})
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
#: Enough for any reply's own text with a client's styles in front of it.
MAX_HTML = 500_000


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stopped = False
        self._skip_tag: str | None = None
        self._skip_depth = 0
        self._pre = 0
        self._line_has_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth += 1
            return
        found = {name: (value or "") for name, value in attrs}
        if _STOP_IDS.match(found.get("id", "")):
            self.stopped = True
            return
        classes = {c.lower() for c in found.get("class", "").split()}
        if tag not in _VOID and (tag in _SKIP_TAGS or classes & _SKIP_CLASSES
                                 or _SKIP_IDS.match(found.get("id", "")) is not None):
            self._skip_tag, self._skip_depth = tag, 1
            return
        if tag == "br":
            self._newline()
        elif tag in _BLOCK:
            self._soft_break()
        elif tag in ("td", "th"):
            self._text(" ")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if self.stopped:
            return
        if self._skip_tag is not None:
            if tag == self._skip_tag:
                self._skip_depth -= 1
                if self._skip_depth == 0:
                    self._skip_tag = None
            return
        if tag in _BLOCK:
            self._soft_break()
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self.stopped or self._skip_tag is not None:
            return
        if self._pre:
            for i, piece in enumerate(data.replace("\r\n", "\n").split("\n")):
                if i:
                    self._newline()
                self._text(piece)
        else:
            self._text(_SPACES.sub(" ", data))

    def _text(self, text: str) -> None:
        if not self._line_has_text and not text.strip():
            return
        self.out.append(text)
        self._line_has_text = True

    def _newline(self) -> None:
        self.out.append("\n")
        self._line_has_text = False

    def _soft_break(self) -> None:
        """A block starts or ends: a new line unless the current one is still empty."""
        if self._line_has_text:
            self._newline()


def html_to_text(html: str) -> str:
    """The text of an HTML body as a reader sees it, without quoted history or signatures
    (of its first MAX_HTML characters)."""
    reader = _Reader()
    reader.feed(html[:MAX_HTML])
    reader.close()
    text = "".join(reader.out).replace("\xa0", " ")
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
