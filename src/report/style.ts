import { STATE_COLORS, STATES } from '../coverage/index.js';

const LEVEL_COLORS: Record<string, [background: string, text: string]> = {
  critical: ['#7a1020', '#fff'],
  high: ['#d33f3f', '#fff'],
  medium: ['#f08c2e', '#111'],
  low: ['#4a7bd0', '#fff'],
  informational: ['#8a93a3', '#fff'],
};

/*
 * The matrix is a grid of as many equal columns as the release has tactics, each allowed to shrink
 * to nothing (minmax(0,1fr)) so the fourteen fit any laptop screen and a landscape page; text
 * wraps inside its tile (hyphenated where the browser can, broken anywhere as a last resort), and
 * a tile's hit count sits in the tile's flow, so nothing can spill onto its neighbour. Only narrow
 * screens, never print, let the tactics wrap onto several rows.
 *
 * A rule-and-host row of the hunt is a <details> whose <summary> is laid out on the same column
 * grid as the header row: the events open without script.
 */
const GROUP_COLUMNS = '1em 5.5em minmax(0,3fr) minmax(0,2fr) 4em 11.5em 11.5em minmax(0,1.5fr)';

export const REPORT_STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:16px}header h1{margin:0 0 4px;font-size:20px}header p{margin:2px 0;color:#c9cfdb}
main{padding:16px}section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px;margin:0 0 16px}
.kpis{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 16px}.kpi{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px 14px}.kpi b{font-size:22px;display:block}
.matrix{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(0,1fr);gap:3px;align-items:start;font-stretch:condensed}
.tactic{min-width:0}.tactic h3{font-size:10px;letter-spacing:-0.01em;line-height:1.25;margin:0 0 3px;padding:4px 2px;background:#e8ebf0;border-radius:4px;text-align:center;overflow-wrap:anywhere;hyphens:auto}
.cell{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 3px;font-size:10.5px;line-height:1.3;padding:3px;margin:0 0 3px;border-radius:3px;color:#111;text-decoration:none;overflow-wrap:anywhere;hyphens:auto}
.cell .id{font-weight:600;white-space:nowrap}.cell .name{flex:1 1 100%;min-width:0}
.cell .hit{margin-left:auto;background:#1d2330;color:#fff;border-radius:8px;padding:0 4px;font-size:9px;white-space:nowrap}
${STATES.map((s) => `.state-${s}{background:${STATE_COLORS[s]}}`).join('')}
.state-covered,.state-uncovered{color:#fff}.badge{display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px}
.none{color:#8a93a3;font-size:12px;margin:2px 0}
table{border-collapse:collapse;width:100%;font-size:12px}th,td{border-bottom:1px solid #e6e9ef;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f0f2f5}
details{border-bottom:1px solid #e6e9ef;padding:6px 0}summary{cursor:pointer}.grid{display:grid;grid-template-columns:1fr 1fr;gap:16px}h4{margin:8px 0 4px}
.groups{font-size:12px}.groups details{padding:0}
.group-head,.groups summary{display:grid;grid-template-columns:${GROUP_COLUMNS};gap:0 8px;padding:4px 6px;align-items:baseline}
.group-head{background:#f0f2f5;font-weight:600}.group-head span,.groups summary span{min-width:0;overflow-wrap:anywhere}
.groups summary{list-style:none}.groups summary::-webkit-details-marker{display:none}
.groups summary::before{content:'▸';color:#8a93a3}.groups details[open]>summary::before{content:'▾'}
.groups summary:hover{background:#f6f7f9}.groups .num{text-align:right;font-variant-numeric:tabular-nums}.groups .time{font-variant-numeric:tabular-nums;white-space:nowrap}
.groups summary .level{justify-self:start;padding:0 6px;border-radius:8px;font-size:11px}
${Object.entries(LEVEL_COLORS)
  .map(([level, [background, text]]) => `.level-${level}{background:${background};color:${text}}`)
  .join('')}
.events{table-layout:fixed;margin:4px 0 6px 1.5em;width:calc(100% - 1.5em)}.events th:nth-child(1){width:15.5em}.events th:nth-child(2){width:11em}.events th:nth-child(4){width:30%}
.group-more{margin:0 0 8px 1.5em;overflow-wrap:anywhere}
@media screen and (max-width:900px){
main{padding:8px}section{padding:8px}
.matrix{grid-auto-flow:row;grid-template-columns:repeat(auto-fill,minmax(130px,1fr))}
.group-head{display:none}.groups summary{display:flex;flex-wrap:wrap;gap:2px 10px}.groups summary .rule{flex:1 1 100%;order:-1}.groups .num::after{content:'×'}
}
@page{size:landscape;margin:10mm}
@media print{
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{background:#fff;font-size:10px}
header{background:none;color:#1d2330;padding:0 0 6px;border-bottom:1px solid #1d2330}header p{color:#1d2330}
main{padding:8px 0 0}section{border:0;border-radius:0;padding:0;margin:0 0 12px}
.kpis{gap:6px}.kpi{padding:4px 8px}.kpi b{font-size:14px}
.matrix{gap:2px}.tactic h3{font-size:8px;padding:3px 2px}.tactic .none{font-size:8px}
.cell{font-size:7.5px;padding:2px 3px;margin:0 0 2px;break-inside:avoid}.cell .hit{font-size:7px;padding:0 3px}
table,.groups{font-size:9px}.badge,.none{font-size:9px}h2{font-size:15px}h3{font-size:12px}tr,.groups summary{break-inside:avoid}h2,h3{break-after:avoid}
}
`;
