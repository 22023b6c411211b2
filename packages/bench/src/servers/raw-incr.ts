/**
 * The limit: node's own http server and one ioredis INCR per request, nothing else. What a Node
 * process and this Redis can do at all; the api's cost is measured against it.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { serverSettings } from './settings.js';

const { port, redisUrl = '' } = serverSettings();
const redis = new Redis(redisUrl);
createServer((_req, res) => {
  redis.incr('hits').then(
    (hits) => {
      const body = JSON.stringify({ hits });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    },
    () => {
      res.writeHead(503).end();
    },
  );
}).listen(port, '127.0.0.1');
