// bench/lib/corpus-files.cjs - the files under a directory, in the order
// ai-chunk walks them: entries sorted by name in byte order, hidden ones
// (a leading '.') skipped, directories entered where they sort.  The
// node peers of bench/10-chunk.sh and bench/20-tokenize.sh read the
// corpus through it, so every splitter and tokenizer sees the same
// documents in the same order.
'use strict';
const fs = require('fs');
const path = require('path');

module.exports = function corpusFiles(dir) {
	const files = [];
	(function walk(d) {
		const entries = fs.readdirSync(d, { withFileTypes: true })
		    .sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
		for (const e of entries) {
			if (e.name.startsWith('.'))
				continue;
			const p = path.join(d, e.name);
			if (e.isDirectory())
				walk(p);
			else
				files.push(p);
		}
	})(dir);
	return files;
};
