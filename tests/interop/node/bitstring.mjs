// Digital Bazaar's W3C Bitstring Status List implementation, driven by tests/interop.
// stdin: {"op": "decode", "encodedList": "u..."} -> {"length": n, "set": [indexes]}
//        {"op": "encode", "length": n, "set": [indexes]} -> {"encodedList": "u..."}
import {createList, decodeList} from '@digitalbazaar/vc-bitstring-status-list';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

if (request.op === 'decode') {
  const list = await decodeList({encodedList: request.encodedList});
  const set = [];
  for (let i = 0; i < list.length; i++) {
    if (list.getStatus(i)) set.push(i);
  }
  process.stdout.write(JSON.stringify({length: list.length, set}));
} else if (request.op === 'encode') {
  const list = await createList({length: request.length});
  for (const i of request.set) list.setStatus(i, true);
  process.stdout.write(JSON.stringify({encodedList: await list.encode()}));
} else {
  throw new Error('unknown op');
}
