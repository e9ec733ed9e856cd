// Validate FHIR R4 JSON with the npm `fhir` package (FHIR.js, core R4 profiles).
// Usage: node validate.js FILE.json|FILE.ndjson ...
// Prints one JSON line per resource {file, index, resourceType, valid, errors}; exit 1 on any error.
"use strict";
const fs = require("fs");
const { Fhir } = require("fhir");

const fhir = new Fhir();
let failed = false;
for (const file of process.argv.slice(2)) {
    const text = fs.readFileSync(file, "utf8");
    const resources = file.endsWith(".ndjson")
        ? text.split("\n").filter((line) => line.trim()).map((line) => JSON.parse(line))
        : [JSON.parse(text)];
    resources.forEach((resource, index) => {
        const result = fhir.validate(resource, { errorOnUnexpected: true });
        const errors = result.messages.filter((m) => m.severity === "error");
        if (errors.length) failed = true;
        console.log(JSON.stringify({ file, index, resourceType: resource.resourceType, valid: result.valid && !errors.length, errors }));
    });
}
process.exit(failed ? 1 : 0);
