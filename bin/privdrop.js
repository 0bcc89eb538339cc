#!/usr/bin/env node
'use strict';
require("../dist/cli").main(process.argv.slice(2));
