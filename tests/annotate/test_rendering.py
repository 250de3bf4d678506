"""Untrusted Markdown must come out as inert HTML: no scripts, handlers, foreign URLs or styles."""
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from markupsafe import Markup

from annotate.rendering import render_markdown

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "ul", "ol", "li", "strong",
    "em", "s", "del", "code", "pre", "span", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def elements_of(html: str) -> list[tuple[str, dict]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def assert_inert(html: str) -> None:
    for tag, attrs in elements_of(html):
        assert tag in ALLOWED_TAGS, f"tag <{tag}> survived: {html}"
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} survived: {html}"
            if name in {"href", "src"}:
                assert value.strip().lower().startswith(SAFE_SCHEMES), f"{name}={value!r} survived: {html}"
            if name == "style":
                assert tag in {"th", "td"} and value.replace(" ", "") in {
                    "text-align:left", "text-align:right", "text-align:center"}, html
            if name == "class":
                assert tag in {"span", "pre"}, html


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(String.fromCharCode(88,83,83))">',
    "<IMG SRC=javascript:alert('XSS')>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">XSS</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background-image:url(javascript:alert(1))">x</div>',
    '<a href="javascript:alert(1)">click</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](%6Aavascript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](javascript:alert(1))",
    '![x](https://example.com/a.png" onerror="alert(1))',
    '[a](https://example.com "title" onmouseover=alert(1))',
    "[a][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;img src=x onerror=alert(1)&#62;",
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
    '<details open ontoggle=alert(1)>',
    '<base href="javascript:alert(1)//">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<body onload=alert(1)>',
    '<input autofocus onfocus=alert(1)>',
    "```html\n<script>alert(1)</script>\n```",
    "```js onload=alert(1)\nalert(1)\n```",
    "`<img src=x onerror=alert(1)>`",
    "<!--<img src=x onerror=alert(1)>-->",
    "<a href='/accounts/logout/'>log out</a>",
    "[same site](/admin/)",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_xss_payloads_come_out_inert(payload):
    html = str(render_markdown(payload))
    assert_inert(html)
    assert "<script" not in html.lower()


def test_raw_html_is_shown_as_text():
    assert str(render_markdown("<b>bold?</b>")) == "<p>&lt;b&gt;bold?&lt;/b&gt;</p>\n"


def test_markdown_essentials_render():
    html = str(render_markdown("# Title\n\n**bold** *it* ~~gone~~ `code`\n\n- one\n- two\n\n> quoted"))
    for fragment in ["<h1>Title</h1>", "<strong>bold</strong>", "<em>it</em>", "<s>gone</s>",
                     "<code>code</code>", "<li>one</li>", "<blockquote>"]:
        assert fragment in html


def test_tables_keep_their_alignment():
    html = str(render_markdown("| a | b |\n|--:|:-:|\n| 1 | 2 |"))
    assert '<th style="text-align:right">a</th>' in html
    assert '<td style="text-align:center">2</td>' in html


def test_links_keep_safe_schemes_and_get_rel():
    html = str(render_markdown("[docs](https://example.com/a?b=1) [mail](mailto:a@example.com)"))
    assert '<a href="https://example.com/a?b=1" rel="noopener noreferrer">docs</a>' in html
    assert 'href="mailto:a@example.com"' in html


def test_fenced_code_is_highlighted_and_escaped():
    html = str(render_markdown('```python\ndef f():\n    return "<b>"\n```'))
    assert html.startswith('<pre class="highlight"><code>')
    assert '<span class="k">def</span>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_unknown_language_is_plain_escaped_code():
    html = str(render_markdown("```nosuchlanguage\n<i>x</i>\n```"))
    assert "<pre><code" in html and "&lt;i&gt;x&lt;/i&gt;" in html and "<span" not in html


def test_empty_text_renders_nothing():
    assert render_markdown("") == Markup("")


def test_template_filter_is_not_escaped_again():
    html = Template("{% load prefstack_markdown %}{{ text|markdown }}").render(Context({"text": "**hi** <i>"}))
    assert html == "<p><strong>hi</strong> &lt;i&gt;</p>\n"
