// A stand-in for an OpenTelemetry collector for bench:gateway: accepts OTLP/HTTP
// exports (POST /v1/traces), reads them whole and answers 200, keeping nothing.
// Runs in its own process, so its work is not the gateway's; prints "ready" once
// listening on PORT.
import { createServer } from 'node:http';

createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('ready'));
