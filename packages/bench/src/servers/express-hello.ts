/** The ceiling: Express 5's hello world with its defaults, the most any Express app here can serve. */
import express from 'express';

const app = express();
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});
app.listen(Number(process.env.PORT), '127.0.0.1');
