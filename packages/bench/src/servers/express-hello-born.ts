/**
 * The same hello world on a server that makes Express's request and response objects with their
 * prototypes already set, as the api's does: what that alone is worth, with nothing else changed.
 */
import { createServer } from 'node:http';
import { bornWithPrototypesOf } from '@three-tier/api/server';
import express from 'express';
import { serverSettings } from './settings.js';

const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});
createServer(bornWithPrototypesOf(app), app).listen(serverSettings().port, '127.0.0.1');
