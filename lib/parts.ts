// Every part of privdrop that loads on first use, loaded at once: the drop with chroot calls this
// before the chroot, after which the package's files are out of reach and a first use would fail
// (docs/design.md, Loading). The CLI and privdrop/register are not parts a dropped process calls;
// the drop itself is loaded already (it calls this), and requiring it here would make a cycle.
/* eslint-disable @typescript-eslint/no-var-requires */
export function loadEveryPart(): void {
  require('./addon/binding');
  require('./capabilities');
  require('./config');
  require('./debug');
  require('./drop/trace');
  require('./errors/suggest');
  require('./runtime');
  require('./runtime/listen');
  require('./state/format');
  require('./state/json');
  require('./state/read');
}
