// Reads a JSON array of strings on stdin; prints a JSON array of those for which
// `new Date(s).toISOString() === s` does not hold (what a frontend relies on).
let input = "";
for await (const chunk of process.stdin) input += chunk;
const failing = [];
for (const s of JSON.parse(input)) {
  const date = new Date(s);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== s) failing.push(s);
}
process.stdout.write(JSON.stringify(failing));
