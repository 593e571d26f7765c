/**
 * The scrape floor: a bare node:http server answering every request with the same bytes
 * (the exporter's gzip /metrics body), as fast as this runtime answers anything.
 * argv: --web.listen-address=HOST:PORT --body=FILE
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const argument = (name) =>
  process.argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';
const [host, port] = argument('web.listen-address').split(':');
const body = readFileSync(argument('body'));
createServer((_request, response) => {
  response.writeHead(200, {
    'content-type': 'application/openmetrics-text; version=1.0.0; charset=utf-8',
    'content-encoding': 'gzip',
    'content-length': body.length,
  });
  response.end(body);
}).listen(Number(port), host);
