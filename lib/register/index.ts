// privdrop/register: `node --require privdrop/register app.js`, `node --import privdrop/register
// app.mjs`, or either in NODE_OPTIONS. Loading this module drops the process to the configuration
// named by PRIVDROP_CONFIG, before the application's first module loads; on any failure it
// writes the coded error to stderr and exits with status 125, so no application code runs.
import { register } from './run';

register();
