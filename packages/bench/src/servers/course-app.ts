/**
 * A stand-in for the course's original app: Express 4 with its defaults, GET /redis counting a
 * visit with one INCR and answering the sentence, nothing else (no logs, no deadlines, no headers
 * of its own). The course's app used a Redis client of its day; ioredis stands in for it.
 */
import express from 'express4';
import { Redis } from 'ioredis';
import { serverSettings } from './settings.js';

const { port, redisUrl = '' } = serverSettings();
const redis = new Redis(redisUrl);
const app = express();
app.get('/redis', (_req, res) => {
  redis.incr('hits').then(
    (hits) => res.send(`This page has been viewed ${hits} times!`),
    () => res.status(500).send('Redis error'),
  );
});
app.listen(port, '127.0.0.1');
