import { describe, expect, it } from 'vitest';
import { lineChart } from '../../src/console/health-page.js';
import { problemText, sparkline } from '../../src/console/rules-page.js';
import { VigilError } from '../../src/core/index.js';

describe('the console charts and rule problems', () => {
  it('draws hits per day as one bar a day, scaled to the busiest, with the counts in its title', () => {
    const svg = sparkline([0, 2, 8, 0], 'Rule <b>x</b>').text;
    expect(svg.match(/<rect /g)).toHaveLength(4);
    expect(svg.match(/class="bar"/g)).toHaveLength(2);
    expect(svg).toContain('height="18" class="bar"');
    expect(svg).toContain('height="5" class="bar"');
    expect(svg).toContain('aria-label="Rule &lt;b&gt;x&lt;/b&gt;: 10 detections in 4 days"');
    expect(svg).not.toContain('<b>');
  });

  it('draws a series as a line through its points, its labels escaped', () => {
    const chart = lineChart(
      {
        tenant: 'acme',
        label: '<img src=x onerror=alert(1)>',
        points: [
          [0, 0],
          [10_000, 5],
          [20_000, 2.5],
        ],
        total: 75,
      },
      'events/s',
    ).text;
    expect(chart).toContain('<polyline points="1.0,62.0 160.0,2.0 319.0,32.0"');
    expect(chart).toContain('<span class="now">2.5</span> events/s now, peak 5');
    expect(chart).toContain('<span class="total">75</span>');
    expect(chart).not.toContain('<img');
  });

  it("names a problem's file by name only, with its line and field", () => {
    const error = new VigilError('SIGMA_SCHEMA', 'unknown modifier', {
      file: '/srv/vigil/rules/sigma/proc.yml',
      line: 12,
      field: 'detection.selection.Image|foo',
    });
    expect(problemText(error)).toBe(
      'proc.yml, line 12, field detection.selection.Image|foo: unknown modifier',
    );
  });
});
