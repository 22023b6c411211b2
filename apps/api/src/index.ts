/**
 * The api's entry point: the only place that reads the environment. Everything else is built by
 * startApi from what it is given, and by createApp from what the tests give it.
 */
import { startApi } from './main.js';

startApi(process.env);
