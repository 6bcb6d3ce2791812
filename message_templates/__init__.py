"""Message templates: shipped defaults, sandboxed rendering, SMS sizing and validation.

Public API (import from here):
- render(kind_or_bundle, channel, locale, variables, source=None) -> RenderedMessage
- validate(source, kind, channel, locale, *, max_segments=2, max_segments_en=3, public_url=...)
  -> list[str]
- sms_info(text) -> SmsInfo; honorific(name, salutation, locale) -> str
- VARIABLES (documented names), sample_variables(locale, long=..., ...)
"""

from message_templates.catalog import (
    BUNDLE,
    CHANNELS,
    FESTIVALS,
    KINDS,
    LOCALES,
    REALISTIC_BUNDLES,
    TEMPLATE_KINDS,
    is_marketing,
)
from message_templates.engine import TemplateRenderError, default_source
from message_templates.honorific import honorific
from message_templates.render import RenderedMessage, render
from message_templates.sms import SmsInfo, sms_info
from message_templates.telegram import Button
from message_templates.validate import validate
from message_templates.variables import (
    DEFAULT_PUBLIC_URL,
    VARIABLES,
    Variable,
    opt_out_hint,
    sample_variables,
)

__all__ = [
    "BUNDLE",
    "CHANNELS",
    "DEFAULT_PUBLIC_URL",
    "FESTIVALS",
    "KINDS",
    "LOCALES",
    "REALISTIC_BUNDLES",
    "TEMPLATE_KINDS",
    "VARIABLES",
    "Button",
    "RenderedMessage",
    "SmsInfo",
    "TemplateRenderError",
    "Variable",
    "default_source",
    "honorific",
    "is_marketing",
    "opt_out_hint",
    "render",
    "sample_variables",
    "sms_info",
    "validate",
]
