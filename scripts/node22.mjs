// Imported first by bin/dev.js: on Node older than 22, runs it again under ~/.node22 and never returns.
import {rerunUnderNode22} from './clone.mjs'

if (Number(process.versions.node.split('.', 1)[0]) < 22) rerunUnderNode22()
