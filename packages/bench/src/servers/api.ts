/**
 * The api as `npm start` runs it, with the features named in BENCH_FEATURES_OFF (comma-separated:
 * requestLogs, metrics, deadlines, securityHeaders) switched off: the bench prices each by its absence.
 */
import { startApi, type AppFeatures } from '@three-tier/api/main';

const known: readonly (keyof AppFeatures)[] = ['requestLogs', 'metrics', 'deadlines', 'securityHeaders'];
const off = (process.env.BENCH_FEATURES_OFF ?? '').split(',').filter(Boolean);
const unknown = off.filter((name) => !known.includes(name as keyof AppFeatures));
if (unknown.length > 0) throw new Error(`BENCH_FEATURES_OFF: unknown features ${unknown.join(', ')} (known: ${known.join(', ')})`);

startApi(process.env, { features: Object.fromEntries(off.map((name) => [name, false])) });
