/**
 * The api as `npm start` runs it, with the features its settings name (requestLogs, metrics,
 * deadlines, securityHeaders) switched off: the bench prices each by its absence.
 */
import { startApi, type AppFeatures } from '@three-tier/api/main';
import { serverSettings } from './settings.js';

const known: readonly (keyof AppFeatures)[] = ['requestLogs', 'metrics', 'deadlines', 'securityHeaders'];
const { port, apiEnv = {}, featuresOff = [] } = serverSettings();
const unknown = featuresOff.filter((name) => !known.includes(name as keyof AppFeatures));
if (unknown.length > 0) throw new Error(`featuresOff: unknown features ${unknown.join(', ')} (known: ${known.join(', ')})`);

startApi({ ...apiEnv, PORT: String(port), HOST: '127.0.0.1' }, { features: Object.fromEntries(featuresOff.map((name) => [name, false])) });
