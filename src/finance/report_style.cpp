#include "finance/report_style.h"

namespace qat {

// System fonts only (the file must open offline); tabular figures so that
// numbers in a column line up; print keeps colours of badges and banner and
// never splits a table row, figure or goal across pages.
const char* report_css() {
  return R"CSS(
:root { --ink:#1b2430; --muted:#5b6675; --line:#d9dee5; --soft:#f4f6f9; --navy:#0b3d91;
        --good:#1b7f3b; --good-bg:#e3f4e8; --bad:#b3261e; --bad-bg:#fbe6e4; --warn-bg:#fff4d6; --warn:#8a5a00; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; background: #eef1f5; color: var(--ink);
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 24px auto; background: #fff; padding: 32px 40px 40px;
       border: 1px solid var(--line); border-radius: 10px; box-shadow: 0 1px 3px rgba(20,30,50,.06); }
.kicker { color: var(--muted); font-size: 12px; letter-spacing: .08em; text-transform: uppercase; }
h1 { font-size: 26px; line-height: 1.25; margin: 4px 0 14px; color: #0d1b2e; }
h2 { font-size: 18px; margin: 34px 0 10px; padding-bottom: 6px; border-bottom: 2px solid var(--line); color: #0d1b2e; }
.banner { background: var(--warn-bg); border: 1px solid #f0c96a; border-left: 6px solid #e0a100; color: #4a3400;
          padding: 10px 14px; border-radius: 6px; margin: 0 0 14px; font-weight: 500; }
.banner strong { color: var(--warn); text-transform: uppercase; letter-spacing: .04em; margin-right: 6px; }
.summary { color: var(--muted); font-size: 13.5px; margin: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
.summary b { color: var(--ink); font-weight: 600; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px;
       background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 0 4px; color: var(--ink); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: 14px; }
th, td { padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { text-align: right; background: var(--soft); border-bottom: 2px solid #c5ccd6; font-weight: 600; }
thead th:first-child, tbody th { text-align: left; }
thead th .scheme { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
thead th.ref { box-shadow: inset 0 3px 0 var(--navy); }
tbody th { font-weight: 600; width: 210px; }
tbody th .unit { display: block; font-weight: 400; color: var(--muted); font-size: 12px; }
td { text-align: right; white-space: nowrap; }
td .v { font-weight: 500; }
td .sub { color: var(--muted); font-size: 12px; }
td.ref, th.ref { background: #f7f9fd; }
tr.primary th, tr.primary td .v { color: #0d1b2e; font-weight: 700; }
.tag { display: inline-block; font-size: 10.5px; font-weight: 600; letter-spacing: .05em; text-transform: uppercase;
       color: var(--navy); border: 1px solid #b8c7e6; background: #eef3fc; border-radius: 3px; padding: 0 5px;
       margin-left: 6px; vertical-align: 1px; }
.na { color: var(--muted); font-style: italic; font-weight: 400; }
.goals { list-style: none; padding: 0; margin: 0; }
.goals li { display: flex; gap: 12px; align-items: baseline; padding: 8px 0; border-bottom: 1px solid var(--line); }
.goals .goal { flex: 1; }
.goals .measured { color: var(--muted); white-space: nowrap; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 74px; text-align: center; font-size: 11.5px; font-weight: 700;
         letter-spacing: .05em; text-transform: uppercase; border-radius: 999px; padding: 1px 10px; border: 1px solid; }
.badge.met { color: var(--good); background: var(--good-bg); border-color: #9fd3b0; }
.badge.not-met { color: #fff; background: var(--bad); border-color: var(--bad); }
.badge.unknown { color: var(--muted); background: var(--soft); border-color: var(--line); }
.goal-count { color: var(--muted); font-size: 13.5px; margin: 0 0 6px; }
figure { margin: 18px 0 8px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
figcaption b { color: var(--ink); }
svg.chart { display: block; width: 100%; height: auto; font-size: 13px; font-family: inherit; }
svg .grid { stroke: #e6e9ee; stroke-width: 1; }
svg .tick, svg .frame { stroke: #8892a0; stroke-width: 1; }
svg .axis text { fill: #4a5463; font-variant-numeric: tabular-nums; }
svg .axis-title { fill: #1b2430 !important; font-weight: 600; }
svg .refline { stroke-width: 1.2; stroke-dasharray: 5 4; opacity: .7; }
svg .point { stroke: #fff; stroke-width: 1.5; }
svg .point.ref { stroke: #0d1b2e; stroke-width: 2; }
svg .point-label { fill: #1b2430; }
svg .point-label.ref { font-weight: 700; }
svg .band { fill: #f6f8fa; }
svg .row-label { fill: #1b2430; font-weight: 600; }
svg .row-note { fill: #4a5463; font-variant-numeric: tabular-nums; }
svg .whisker { stroke-width: 2; }
svg .whisker.dashed { stroke-dasharray: 4 3; }
svg .box { fill-opacity: .22; stroke-width: 1.5; }
svg .median { stroke: #0d1b2e; stroke-width: 3; }
svg .p99 { stroke: #fff; stroke-width: 1; }
svg .curve { fill: none; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
svg .val { fill: #fff; stroke-width: 2; }
svg .legend { fill: #1b2430; }
svg .muted { fill: #5b6675; }
svg .small { font-size: 12px; }
svg .empty { fill: var(--soft); stroke: var(--line); }
.notes { padding-left: 20px; margin: 0; }
.notes li { margin: 4px 0; }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 10px; }
@media (max-width: 800px) {
  main { margin: 0; padding: 20px 16px; border: 0; border-radius: 0; }
  tbody th { width: auto; }
}
@media print {
  @page { margin: 14mm; }
  body { background: #fff; font-size: 11pt; }
  main { margin: 0; padding: 0; border: 0; box-shadow: none; max-width: none; }
  .banner, .badge, thead th, td.ref, th.ref, svg .band { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2, .goal-count { break-after: avoid; }
  tr, figure, .goals li, .banner { break-inside: avoid; }
  .table-wrap { overflow: visible; }
  /* Six columns must fit a portrait page: smaller type, tighter cells. */
  table { font-size: 8.5pt; }
  th, td { padding: 4px 6px; }
  tbody th { width: auto; }
  td .sub, thead th .scheme, tbody th .unit { font-size: 7.5pt; }
}
)CSS";
}

}  // namespace qat
