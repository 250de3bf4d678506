from django import template

from annotate.rendering import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    """`{{ text|markdown }}`: untrusted Markdown as sanitised, highlighted HTML."""
    return render_markdown(text)
