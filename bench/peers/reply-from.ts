// Fastify with @fastify/reply-from (its default undici client), logger off, as its README shows.
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';
import { parsePeerArgs } from './peer-args.js';

const { port, upstream, connections } = parsePeerArgs(process.argv.slice(2));
const app = Fastify({ logger: false });
await app.register(replyFrom, { base: upstream, undici: { connections, pipelining: 1 } });
app.get('/*', (request, reply) => {
  reply.from(request.url);
});
await app.listen({ port, host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close());
