/** The page's style, inlined by the script (the page loads nothing else). */
export const STYLE = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1b1f24; background: #f6f7f9; }
body { margin: 0; }
.page { padding: 12px 18px; }
header { display: flex; align-items: center; gap: 12px; }
h1 { font-size: 20px; margin: 4px 0; }
h2 { font-size: 16px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 12px 0 4px; }
section { background: #fff; border: 1px solid #d8dde3; border-radius: 8px; padding: 10px 12px; overflow: auto; }
main { display: grid; grid-template-columns: 260px minmax(360px, 1fr) minmax(420px, 1.2fr); gap: 12px; margin-top: 12px; }
.lower { display: grid; grid-template-columns: 1fr 1fr 1fr; gap: 12px; margin-top: 12px; }
.repositories ul, .jobs ul, .events ol { list-style: none; margin: 0; padding: 0; }
.repositories li button { display: block; width: 100%; text-align: left; border: 1px solid transparent; background: none; padding: 6px; border-radius: 6px; cursor: pointer; }
.repositories li button span { display: block; color: #57606a; font-size: 12px; }
.repositories li button[aria-pressed="true"] { border-color: #0969da; background: #ddf4ff; }
.jobs { margin-top: 12px; }
.jobs ul { display: flex; flex-wrap: wrap; gap: 12px; }
.jobs li { display: flex; gap: 6px; align-items: center; }
.jobs button { padding: 6px 10px; border-radius: 6px; border: 1px solid #1f883d; background: #dafbe1; cursor: pointer; }
.jobs output { font-size: 12px; color: #1a7f37; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
tr.selected { background: #ddf4ff; }
button.link { background: none; border: none; padding: 0; color: #0969da; cursor: pointer; font: inherit; text-decoration: underline; }
.decision.delete, .verdict.FAIL { color: #cf222e; font-weight: 600; }
.decision.archive { color: #9a6700; font-weight: 600; }
.decision.keep, .verdict.PASS { color: #1a7f37; }
tr.expiring { background: #fff8c5; font-weight: 600; }
tr.expired { background: #ffebe9; }
.digest { font-family: ui-monospace, monospace; font-size: 12px; word-break: break-all; }
dl { display: grid; grid-template-columns: 110px 1fr; gap: 2px 8px; margin: 6px 0; }
dt { color: #57606a; }
dd { margin: 0; }
.live { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #eaeef2; }
.live.on { background: #dafbe1; color: #1a7f37; }
.events ol { max-height: 360px; overflow: auto; font-size: 12px; }
.events li { padding: 2px 0; border-bottom: 1px solid #f0f2f4; }
.events time { color: #57606a; font-family: ui-monospace, monospace; }
.graph { margin: 8px 0; }
.graph figcaption ul { margin: 4px 0; padding-left: 18px; font-size: 12px; }
.graph .edge { stroke: #8c959f; stroke-width: 1.5; }
.graph .edge-label { font-size: 11px; fill: #57606a; }
.graph .node rect { fill: #f6f8fa; stroke: #8c959f; stroke-width: 1.5; }
.graph .node.current rect { stroke: #0969da; stroke-width: 3; }
.graph .node.delete rect { fill: #ffebe9; stroke: #cf222e; stroke-dasharray: 5 3; }
.graph .node.archive rect { fill: #fff8c5; stroke: #9a6700; }
.graph .node.keep rect { fill: #dafbe1; stroke: #1a7f37; }
.graph .node.missing rect { fill: #fff; stroke-dasharray: 2 2; }
.graph .node-title { font-size: 13px; font-weight: 600; }
.graph .node-sub { font-size: 11px; fill: #57606a; }
.plan { background: #ddf4ff; padding: 4px 8px; border-radius: 6px; }
`;
