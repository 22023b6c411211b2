/** The ceiling: Express 5's hello world with its defaults, the most any Express app here can serve. */
import express from 'express';
import { serverSettings } from './settings.js';

const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});
app.listen(serverSettings().port, '127.0.0.1');
