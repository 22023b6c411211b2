/**
 * The limit: node's own http server and one ioredis INCR per request, nothing else. What a Node
 * process and this Redis can do at all; the api's cost is measured against it.
 */
import { createServer } from 'node:http';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? '');
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
}).listen(Number(process.env.PORT), '127.0.0.1');
