"""Amazon's free texts (titles) made plain for Odoo names: plain Python, no ORM."""
import html
import re

# Only real HTML elements are removed: a title such as "Cable 1m<2m" or "Caja <grande>" keeps its text.
_INLINE = r"b|i|u|s|em|strong|span|font|a|small|big|sup|sub|mark|abbr|code|strike|tt"
_BLOCK = r"br|p|div|li|ul|ol|h[1-6]|center|table|thead|tbody|tr|td|th|hr|img|blockquote|pre|dl|dt|dd"
_DROPPED = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_INLINE_TAG = re.compile(rf"</?(?:{_INLINE})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_BLOCK_TAG = re.compile(rf"</?(?:{_BLOCK})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def plain_text(text):
    """``text`` without HTML tags, with entities decoded and white space collapsed; None stays None.

    Amazon's titles sometimes carry markup (``Sombrero <b>hecho a mano</b>``) or entities (``&amp;``):
    Odoo's names are plain text, so tags go (block tags become a space) and entities become characters.
    Entities are decoded last so that an encoded ``&lt;b&gt;`` stays visible text, never markup.
    """
    if text is None:
        return None
    text = _DROPPED.sub(" ", text)
    text = _COMMENT.sub("", text)
    text = _BLOCK_TAG.sub(" ", text)
    text = _INLINE_TAG.sub("", text)
    text = html.unescape(text).replace("\u00a0", " ")
    return _SPACES.sub(" ", text).strip()
