/**
 * The live page's style sheet. Its own palette for light and dark (each text colour at 4.5:1 or more
 * on its background); an instance's hue only ever colours a swatch or a bar, never text.
 */
export const pageStyle = `
:root {
  color-scheme: light dark;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.45;
  --bg: #f3f5f8; --card: #ffffff; --text: #1b1f24; --muted: #545d68; --line: #d9dee5;
  --accent: #1c57b8; --on-accent: #ffffff;
  --ok: #0b6b31; --ok-bg: #ddf4e4; --warn: #7d5300; --warn-bg: #fff0cc; --bad: #a3161b; --bad-bg: #fde3e3;
  --lightness: 46%;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0e1116; --card: #171b22; --text: #e7eaee; --muted: #a4adb8; --line: #2c333d;
    --accent: #8db4ff; --on-accent: #0b1320;
    --ok: #7fe0a3; --ok-bg: #113522; --warn: #ffd37a; --warn-bg: #3a2c05; --bad: #ff9a9a; --bad-bg: #421516;
    --lightness: 62%;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); }
main { max-width: 64rem; margin: 0 auto; padding: 1.25rem 1rem 2rem; }
header { margin-bottom: 1rem; }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; letter-spacing: .02em; }
h1 { font-size: 1.55rem; margin: .2rem 0 0; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
h2 small { font-weight: normal; color: var(--muted); }
code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: .92em; }
a { color: var(--accent); }
.unavailable { color: var(--bad); }
.grid { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 44rem) { .grid { grid-template-columns: repeat(2, minmax(0, 1fr)); } }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .75rem; padding: 1rem 1.1rem; min-width: 0; }
.wide { grid-column: 1 / -1; }
.swatch { display: inline-block; flex: none; width: .95rem; height: .95rem; border-radius: 50%;
  background: hsl(var(--hue, 210) 70% var(--lightness)); vertical-align: -.1em; }
.served { border-left: .45rem solid hsl(var(--served-hue) 70% var(--lightness)); }
.served .swatch { --hue: var(--served-hue); width: 1.3rem; height: 1.3rem; }
.who { display: flex; flex-wrap: wrap; align-items: center; gap: .3rem .6rem; font-size: 1.35rem; }
.who code { font-size: .8rem; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: auto 1fr; gap: .15rem .9rem; margin: .7rem 0 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.behind { list-style: none; margin: 0; padding: 0; display: grid; gap: .45rem; }
.behind li { display: grid; grid-template-columns: 4.6rem 1fr; gap: .6rem; align-items: baseline; }
.tier { font-weight: 600; }
.dot { display: inline-block; width: .6rem; height: .6rem; border-radius: 50%; margin-right: .35rem; background: var(--muted); }
.dot.ok { background: var(--ok); } .dot.warn { background: var(--warn); } .dot.bad { background: var(--bad); }
.instances { list-style: none; margin: 0; padding: 0; display: grid; gap: .55rem; }
.instance { display: grid; grid-template-columns: 1fr minmax(7rem, 16rem) 3.2rem; gap: .3rem .8rem; align-items: center;
  padding: .45rem .6rem; border-radius: .5rem; border: 1px solid var(--line); }
.instance .name { display: flex; flex-wrap: wrap; align-items: center; gap: .25rem .5rem; min-width: 0; }
.instance .name code { color: var(--muted); overflow-wrap: anywhere; }
.instance .meta { grid-column: 1 / -1; color: var(--muted); font-size: .85rem; font-variant-numeric: tabular-nums; }
/* Gone: dashed and grey, but its text keeps full contrast (no opacity). */
.instance.gone { border-style: dashed; background: color-mix(in srgb, var(--text) 4%, transparent); }
.instance.gone .swatch, .instance.gone .bar span { filter: grayscale(1); }
.bar { height: .7rem; border-radius: .35rem; background: color-mix(in srgb, var(--text) 10%, transparent); overflow: hidden; }
.bar span { display: block; height: 100%; width: 0; border-radius: inherit; background: hsl(var(--hue, 210) 70% var(--lightness));
  transition: width .25s linear; }
.pct { text-align: right; font-variant-numeric: tabular-nums; font-weight: 600; }
.badge { font-size: .75rem; font-weight: 600; padding: .05rem .45rem; border-radius: 1rem; background: var(--line); color: var(--text); white-space: nowrap; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.empty { color: var(--muted); margin: 0; }
.big { font-size: 2.4rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.1; margin: .2rem 0 0; }
.row { display: flex; flex-wrap: wrap; align-items: end; gap: .6rem .9rem; margin-top: .7rem; }
button { font: inherit; font-weight: 600; padding: .5rem 1rem; border-radius: .5rem; border: 1px solid var(--accent);
  background: var(--accent); color: var(--on-accent); cursor: pointer; min-height: 2.75rem; }
button.secondary { background: transparent; color: var(--accent); }
button[aria-pressed="true"] { background: var(--bad); border-color: var(--bad); color: var(--card); }
button:disabled { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
label { display: grid; gap: .2rem; font-size: .85rem; color: var(--muted); }
input { font: inherit; width: 7rem; padding: .45rem .5rem; border-radius: .4rem; border: 1px solid var(--muted);
  background: var(--card); color: var(--text); min-height: 2.75rem; }
.tally { list-style: none; margin: .7rem 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: .35rem .9rem; font-variant-numeric: tabular-nums; }
.tally li { display: flex; align-items: center; gap: .35rem; }
.numbers { display: grid; grid-template-columns: repeat(auto-fit, minmax(6.5rem, 1fr)); gap: .5rem; margin: .8rem 0 0; }
.numbers div { border: 1px solid var(--line); border-radius: .5rem; padding: .35rem .55rem; }
.numbers dt { font-size: .78rem; color: var(--muted); }
.numbers dd { margin: 0; font-size: 1.15rem; font-weight: 700; font-variant-numeric: tabular-nums; }
.note { color: var(--muted); font-size: .85rem; margin: .5rem 0 0; }
.problem { color: var(--bad); }
#status { min-height: 1.5em; margin: 1rem 0 0; padding: .5rem .75rem; border-radius: .5rem; background: var(--card); border: 1px solid var(--line); }
#status:empty { visibility: hidden; }
footer { margin-top: 1.2rem; color: var(--muted); font-size: .9rem; }
footer a { margin-right: .8rem; }
@media (max-width: 30rem) {
  main { padding: .8rem .6rem 1.5rem; }
  h1 { font-size: 1.25rem; }
  .instance { grid-template-columns: 1fr 3.2rem; }
  .instance .bar { grid-column: 1; grid-row: 2; }
  .instance .pct { grid-row: 2; }
}
@media (prefers-reduced-motion: reduce) { .bar span { transition: none; } }
`;
