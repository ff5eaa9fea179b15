import { describe, expect, it } from 'vitest';
import { clip, html, webUrl } from '../../src/console/html.js';

describe('the console HTML templates', () => {
  it('escapes every value, in text and in quoted attributes alike', () => {
    const title = `<script>alert("x")</script> & 'quoted' \`tick\``;
    expect(html`<p title="${title}">${title}</p>`.text).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &#96;tick&#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &#96;tick&#96;</p>',
    );
  });

  it('keeps HTML made by a template as HTML, joins lists, and shows nothing for absent values', () => {
    const items = ['a<b', 'c'].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>0',
    );
  });

  it('makes links of web addresses only', () => {
    expect(webUrl('https://example.com/a?b=1')).toBe('https://example.com/a?b=1');
    expect(webUrl('javascript:alert(1)')).toBeUndefined();
    expect(webUrl(' JavaScript:alert(1)')).toBeUndefined();
    expect(webUrl('data:text/html,<script>x</script>')).toBeUndefined();
    expect(webUrl('not a url')).toBeUndefined();
  });

  it('cuts long text with an ellipsis', () => {
    expect(clip('abcdef', 3)).toBe('abc…');
    expect(clip('abc', 3)).toBe('abc');
  });
});
