/** The ids of the cases the report and the chart single out, written once. */

/** Express 5's hello world: every "vs hello" ratio is taken against it. */
export const helloId = 'hello';

/** The references the hop report compares with. */
export const referenceIds = {
  raw: 'raw',
  rawBareNginx: 'raw-bare-nginx',
  rawOurNginx: 'raw-nginx',
  rawBareProxy: 'raw-bare-proxy',
  rawOurEdge: 'raw-edge',
  course: 'course',
  courseNginx: 'course-nginx',
} as const;

/** The rungs of the hop (hop.ts). */
export const hopIds = {
  direct: 'hop:direct',
  bare: 'hop:bare-nginx',
  plain: 'hop:ours-plain',
  headers: 'hop:ours-headers',
  whole: 'hop:ours',
  keyed: 'hop:ours-keyed',
} as const;

/** The project's cases, as `npm start` runs it (bench.ts builds them as `<placement>:<route>`). */
export const stackIds = {
  directInfo: 'direct-info:/redis',
  directWarn: 'direct-warn:/redis',
  nginxInfo: 'nginx-info:/redis',
  nginxWarn: 'nginx-warn:/redis',
  proxyInfo: 'proxy-info:/redis',
} as const;
