"""Untrusted text (prompts, model responses, guidelines) to safe HTML.

Markdown is parsed with raw HTML disabled, fenced code is highlighted by Pygments, and the
result still goes through an allow-list sanitiser: the parser's escaping is the first wall,
nh3 the second, so a parser bug alone cannot let a script through.
"""
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

_CODE_FORMATTER = HtmlFormatter(nowrap=True)


def _highlight_fence(code: str, language: str, _attrs) -> str:
    """Highlighted HTML for a fenced block, or "" to let markdown-it escape it as plain code."""
    if not language:
        return ""
    try:
        lexer = get_lexer_by_name(language.split()[0])
    except ClassNotFound:
        return ""
    # Starting with <pre tells markdown-it to use this HTML as is instead of wrapping it again.
    return f'<pre class="highlight"><code>{highlight(code, lexer, _CODE_FORMATTER)}</code></pre>\n'


_MARKDOWN = (
    MarkdownIt("commonmark", {"html": False, "highlight": _highlight_fence})
    .enable("table")
    .enable("strikethrough")
)

_CLEANER = nh3.Cleaner(
    tags={
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li",
        "strong", "em", "s", "del", "code", "pre", "span", "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    },
    clean_content_tags={"script", "style"},
    attributes={
        "a": {"href", "title"},
        "img": {"src", "alt", "title"},
        "ol": {"start"},
        "th": {"style"},
        "td": {"style"},
    },
    # Only the classes our own highlighter writes, so a response cannot borrow the page's styles.
    allowed_classes={"pre": {"highlight"}, "span": set(STANDARD_TYPES.values()) - {""}},
    filter_style_properties={"text-align"},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",  # a response must not point at this site's own pages
    link_rel="noopener noreferrer",
    set_tag_attribute_values={"img": {"referrerpolicy": "no-referrer", "loading": "lazy"}},
    strip_comments=True,
)


def render_markdown(text: str) -> Markup:
    """Sanitised HTML for `text` read as Markdown; safe to put in a template unescaped."""
    if not text:
        return Markup("")
    return Markup(_CLEANER.clean(_MARKDOWN.render(str(text))))

