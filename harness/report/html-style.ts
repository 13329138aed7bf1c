// The report's stylesheet (inlined into every page). A constant: never built from run data.
export const REPORT_CSS = `
:root{--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;--pass:#1a7f37;--fail:#cf222e;
--unknown:#9a6700;
--pass-bg:#dafbe1;--fail-bg:#ffebe9;--unknown-bg:#fff8c5;--blue:#0969da}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1180px;padding:20px 24px 40px;
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:28px 0 8px;display:flex;gap:10px;align-items:center;flex-wrap:wrap}
h3{font-size:15px;margin:20px 0 6px;color:#3b434b}
code,pre{font:12.5px/1.4 ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;
white-space:pre-wrap;word-break:break-all;margin:6px 0}
a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}
.muted{color:var(--muted)}.sub{margin:0 0 14px;color:var(--muted)}
.badge{display:inline-block;font-size:12px;font-weight:700;letter-spacing:.04em;padding:2px 8px;border-radius:12px;
color:#fff;vertical-align:middle}
.badge.v-pass{background:var(--pass)}.badge.v-fail{background:var(--fail)}.badge.v-unknown{background:var(--unknown)}
.expect{font-size:13px;font-weight:600}.expect.o-as-expected{color:var(--pass)}.expect.o-unexpected{color:var(--fail)}
.expect.o-unknown{color:var(--unknown)}
.run-verdict{display:flex;gap:16px;align-items:center;padding:12px 18px;border-radius:8px;border:2px solid;
margin:6px 0 14px;font-size:15px}
.run-verdict .big{font-size:26px;font-weight:800;letter-spacing:.05em}
.run-verdict.v-pass{border-color:var(--pass);background:var(--pass-bg);color:#0f5323}
.run-verdict.v-fail{border-color:var(--fail);background:var(--fail-bg);color:#82071e}
.run-verdict.v-unknown{border-color:var(--unknown);background:var(--unknown-bg);color:#4d2d00}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.sut-card{display:block;color:inherit;border:1px solid var(--line);border-top:6px solid var(--line);border-radius:8px;
padding:10px 14px;background:#fff}
.sut-card:hover{text-decoration:none;box-shadow:0 2px 8px rgba(0,0,0,.12)}
.sut-card.o-as-expected{border-top-color:var(--pass)}
.sut-card.o-unexpected{border-top-color:var(--fail);background:var(--fail-bg)}
.sut-card.o-unknown{border-top-color:var(--unknown);background:#fffdf0}
.card-head{display:flex;justify-content:space-between;align-items:center;gap:8px}
.card-name{font-size:17px;font-weight:700;overflow-wrap:anywhere}
.card-expect{margin:4px 0;font-size:14px}
.sut-card ul{margin:6px 0;padding-left:18px;font-size:13px}
.card-nums{display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12.5px;color:var(--muted)}.card-nums b{color:var(--fg)}
.card-reason{margin-top:6px;font-size:12.5px;color:#4d2d00}
li.bad,.st-bad,.viol{color:var(--fail)}span.caught{color:#0a3069;font-weight:600}span.seen{color:var(--unknown)}
li.ok,.st-ok{color:var(--pass)}li.caught,.st-caught{color:#0a3069}li.warn,.st-warn{color:var(--unknown)}
.st-info{color:var(--muted)}
.st{font-weight:600}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
.grid2 table.latency{font-size:12px}.grid2 table.latency td,.grid2 table.latency th{padding:4px 5px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
thead th{background:var(--soft);font-weight:600;font-size:12.5px;color:#3b434b}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.c-bad{background:var(--fail-bg)}tr.c-caught{background:#ddf4ff}tr.c-warn{background:#fffbdd}
table.invariants td:nth-child(-n+5){white-space:nowrap}table.invariants td:last-child{width:52%}
details.examples summary{cursor:pointer;color:var(--blue)}
details.examples ol{margin:6px 0;padding-left:20px}
.ex-id{font-weight:600;word-break:break-all}.ex-detail{word-break:break-word}
.tiles{display:flex;flex-wrap:wrap;gap:8px;margin:10px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:4px 10px;min-width:78px;background:var(--soft)}
.tile b{display:block;font-size:16px;font-variant-numeric:tabular-nums}.tile span{font-size:11.5px;color:var(--muted)}
.tile.unit{background:#fff}.tile.rate{background:#fff;border-style:dashed}
.callout{border-left:4px solid;padding:6px 10px;border-radius:4px;margin:8px 0}
.callout.warn{border-color:var(--unknown);background:var(--unknown-bg)}
.callout.bad{border-color:var(--fail);background:var(--fail-bg)}
section.sut{border-top:3px solid var(--line);margin-top:34px;padding-top:4px}
section.sut.o-unexpected{border-top-color:var(--fail)}section.sut.o-as-expected{border-top-color:var(--pass)}
section.sut.o-unknown{border-top-color:var(--unknown)}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:16px;align-items:start}
@media (max-width:980px){.grid2{grid-template-columns:1fr}}
figure{margin:8px 0 12px;border:1px solid var(--line);border-radius:8px;padding:8px 10px;background:#fff}
figcaption{font-weight:600;font-size:13px;margin-bottom:4px;color:#3b434b}
svg.chart{display:block;width:100%;height:auto;font:12px system-ui,"DejaVu Sans",sans-serif}
svg.chart text{fill:#3b434b}
svg.chart .grid line{stroke:#eaeef2}svg.chart .axes line{stroke:#8c959f}svg.chart .tick.x line{stroke:#8c959f}
svg.chart .units-chart .tick.x line,svg.units-chart .tick.x line{stroke:#eaeef2}
svg.chart .axis-title{fill:var(--muted);font-size:12px}
svg.chart .fault-band rect{fill:#f2b8b5;fill-opacity:.45}
svg.chart .fault-band text{fill:#82071e;font-size:11px;font-weight:600}
svg.chart .hover-cols rect{fill:transparent}svg.chart .hover-cols rect:hover{fill:rgba(9,105,218,.08)}
svg.chart circle:hover{r:5}
svg.units-chart .stock{fill:#eaeef2;stroke:#8c959f;stroke-width:1}
svg.units-chart .sold{fill:#0969da}svg.units-chart .held{fill:#80ccff}svg.units-chart .sold.over{fill:var(--fail)}
svg.units-chart .stock-mark{stroke:#1f2328;stroke-width:2}
svg.units-chart .oversold .sold{fill:var(--fail)}svg.units-chart .oversold .held{fill:#ff8182}
svg.units-chart .oversold text{fill:var(--fail);font-weight:700}
svg.units-chart .units-num{font-variant-numeric:tabular-nums}
.no-data{color:var(--muted);font-style:italic}.note{color:var(--muted);font-size:12.5px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:8px 0}dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;word-break:break-word}
pre.command{font-size:13px}
table.matrix td.cell{min-width:220px}table.matrix td.o-unexpected{background:var(--fail-bg)}
table.matrix td.o-unknown{background:#fffdf0}
.ibar{display:block;height:5px;background:#eaeef2;border-radius:3px;margin-top:3px;min-width:60px}
.ibar span{display:block;height:100%;border-radius:3px;background:#0969da}
.ibar.p99 span{background:#bc4c00}.ibar.p999 span{background:var(--fail)}.ibar.offered span{background:#8c959f}
.ibar.decided span{background:var(--pass)}
footer{margin-top:36px;color:var(--muted);font-size:12px;border-top:1px solid var(--line);padding-top:8px}
`;
