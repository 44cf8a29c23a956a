import { createReadStream, statSync } from 'node:fs'
import { request } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'

/**
 * Streams a CSV file to `POST /upload-sales` with `node:http`, as the raw
 * body (`text/csv`) or as the `file` field of a `multipart/form-data`
 * body, with an exact `Content-Length` so the server can apply its size
 * limit before reading. Used by the upload and query benchmarks.
 */

export type UploadEncoding = 'raw' | 'multipart'

export interface UploadResponse {
  status: number
  body: Record<string, unknown>
}

const BOUNDARY = 'bench-boundary-7f3a9c2e41d8'

/** Uploads the file at `path` and returns the status and parsed JSON. */
export async function uploadFile(
  baseUrl: string,
  token: string,
  path: string,
  encoding: UploadEncoding,
): Promise<UploadResponse> {
  const { body, headers } = encoding === 'raw'
    ? rawBody(path)
    : multipartBody(path)
  const url = new URL('/upload-sales', baseUrl)
  if (url.hostname !== '127.0.0.1') {
    throw new Error(`Uploads go to 127.0.0.1 only, not ${baseUrl}`)
  }

  const outgoing = request(url, {
    method: 'POST',
    headers: { ...headers, authorization: `Bearer ${token}` },
  })
  const answered = new Promise<UploadResponse>((resolve, reject) => {
    outgoing.once('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.once('end', () => resolve({
        status: response.statusCode ?? 0,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      }))
      response.once('error', reject)
    })
    outgoing.once('error', reject)
  })
  // The server may respond early (413, 422) and close the connection, so
  // a failed send is ignored and the response is returned.
  const sent = pipeline(body, outgoing).catch(() => undefined)
  const [response] = await Promise.all([answered, sent])
  return response
}

/** Sends a request without a body and returns the status and JSON. */
export async function sendRequest(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
): Promise<UploadResponse> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: { authorization: `Bearer ${token}` },
  })
  const text = await response.text()
  return { status: response.status, body: text === '' ? {} : JSON.parse(text) }
}

function rawBody(path: string) {
  return {
    body: createReadStream(path, { highWaterMark: 256 * 1024 }),
    headers: {
      'content-type': 'text/csv',
      'content-length': String(statSync(path).size),
    },
  }
}

function multipartBody(path: string) {
  const head = Buffer.from(`--${BOUNDARY}\r\n` +
    'Content-Disposition: form-data; name="file"; filename="sales.csv"\r\n' +
    'Content-Type: text/csv\r\n\r\n')
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  const length = head.byteLength + statSync(path).size + tail.byteLength
  async function* parts(): AsyncGenerator<Buffer> {
    yield head
    yield* createReadStream(path, { highWaterMark: 256 * 1024 })
    yield tail
  }
  return {
    body: Readable.from(parts()),
    headers: {
      'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
      'content-length': String(length),
    },
  }
}
