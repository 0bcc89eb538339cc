'use strict';
// Every fuzz target, in the order they run. Each is { name, share (of the cases), arbitrary, run(input) },
// run returning an outcome label or throwing a FuzzFailure.
const { capsParse, capsMethods } = require('./capabilities');
const { dropOptions } = require('./options');
const { configParse, configWholeFile, configLayers } = require('./config');
const { cliRun, cliArgs } = require('./cli');
const { setCaps, withCaps, listenArgs } = require('./runtime');

const TARGETS = [capsParse, capsMethods, dropOptions, configParse, configWholeFile, configLayers, cliArgs, cliRun, setCaps, withCaps, listenArgs];

module.exports = { TARGETS };
