// The leak check's reading of a valgrind log: only "definitely lost" records whose stack passes
// through privdrop.node or libcap count against privdrop; node's own records are totalled only.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { analyseValgrindLog } = require('../../evidence/leakcheck.js');

const log = `==7== Memcheck, a memory error detector
==7== 
==7== 199 bytes in 1 blocks are definitely lost in loss record 116 of 273
==7==    at 0x5ECF5EF: calloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==7==    by 0x2C1366E8: _libcap_strdup (in /usr/lib/x86_64-linux-gnu/libcap.so.2.66)
==7==    by 0x2C095C93: privdrop::CapsToText(privdrop::CapMasks const&) (in /x/build/Release/privdrop.node)
==7== 
==7== 1,024 (64 direct, 960 indirect) bytes in 2 blocks are definitely lost in loss record 5 of 273
==7==    at 0x48407B4: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==7==    by 0xC45D94: node::Something() (in /usr/bin/node)
==7== 
==7== 304 bytes in 1 blocks are possibly lost in loss record 200 of 273
==7==    at 0x48407B4: calloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==7==    by 0x2C095C93: privdrop::Other() (in /x/build/Release/privdrop.node)
==7== 
==7== Invalid read of size 8
==7==    at 0x2C095C93: privdrop::CapsFromText(std::string const&) (caps.cc:70)
==7==    by 0x2C08F458: (anonymous namespace)::CapFromTextJs(Napi::CallbackInfo const&) (in /x/build/Release/privdrop_faults.node)
==7== 
==7== LEAK SUMMARY:
==7==    definitely lost: 1,223 bytes in 3 blocks
`;

test('a definitely-lost block allocated through privdrop.node or libcap counts against privdrop', () => {
  const a = analyseValgrindLog(log);
  expect(a.oursBytes).toBe(199);
  expect(a.oursBlocks).toBe(1);
  expect(a.ours[0]).toContain('CapsToText');
});

test("node's own definitely-lost records are totalled but not attributed to privdrop", () => {
  const a = analyseValgrindLog(log);
  expect(a.definitelyLostBytes).toBe(199 + 1024);
  expect(a.definitelyLostBlocks).toBe(3);
});

test('possibly-lost records are not counted; memory errors in privdrop frames are', () => {
  const a = analyseValgrindLog(log);
  expect(a.ours.join('\n')).not.toContain('possibly lost');
  expect(a.oursErrors).toHaveLength(1);
  expect(a.oursErrors[0]).toContain('Invalid read');
});

test('a clean log has nothing attributed to privdrop', () => {
  const a = analyseValgrindLog('==9== All heap blocks were freed -- no leaks are possible\n');
  expect(a).toMatchObject({ oursBytes: 0, oursBlocks: 0, definitelyLostBytes: 0, ours: [], oursErrors: [] });
});
