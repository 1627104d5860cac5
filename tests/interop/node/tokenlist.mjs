// The OpenWallet Foundation SD-JWT JS project's IETF Token Status List implementation,
// driven by tests/interop.
// stdin: {"op": "decode", "lst": "...", "bits": b} -> {"size": n, "nonzero": {index: value}}
//        {"op": "jwt", "jwt": "..."} -> the same for the list inside a statuslist+jwt
//        {"op": "encode", "bits": b, "size": n, "values": {index: value}} -> {"lst": "..."}
import {StatusList, getListFromStatusListJWT} from '@sd-jwt/jwt-status-list';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const request = JSON.parse(Buffer.concat(chunks).toString('utf8'));

function dump(list) {
  const nonzero = {};
  const size = list.statusList.length;
  for (let i = 0; i < size; i++) {
    const value = list.getStatus(i);
    if (value !== 0) nonzero[i] = value;
  }
  return {size, bits: list.getBitsPerStatus(), nonzero};
}

if (request.op === 'decode') {
  process.stdout.write(JSON.stringify(
    dump(StatusList.decompressStatusList(request.lst, request.bits))));
} else if (request.op === 'jwt') {
  process.stdout.write(JSON.stringify(dump(getListFromStatusListJWT(request.jwt))));
} else if (request.op === 'encode') {
  const values = new Array(request.size).fill(0);
  for (const [i, v] of Object.entries(request.values)) values[Number(i)] = v;
  const list = new StatusList(values, request.bits);
  process.stdout.write(JSON.stringify({lst: list.compressStatusList()}));
} else {
  throw new Error('unknown op');
}
