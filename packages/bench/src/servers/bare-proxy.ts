/**
 * The bare reference for the http-proxy edge: http-proxy in front of one upstream over a keep-alive
 * agent, and nothing else (no routing, limits, ids, retries or logs). What any Node proxy pays.
 */
import { Agent, createServer } from 'node:http';
import httpProxy from 'http-proxy';
import { serverSettings } from './settings.js';

const { port, upstreamUrl = '' } = serverSettings();
const proxy = httpProxy.createProxyServer({ target: upstreamUrl, agent: new Agent({ keepAlive: true }) });
createServer((req, res) => {
  proxy.web(req, res, {}, () => {
    res.writeHead(502).end();
  });
}).listen(port, '127.0.0.1');
