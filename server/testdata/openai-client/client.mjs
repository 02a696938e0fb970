// Calls clipinfer serve through the official OpenAI Node SDK, as an
// application would, and prints what the SDK returned as one JSON object.
// Usage: node client.mjs BASE_URL MODEL
import OpenAI from "openai";

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "unused", maxRetries: 0, timeout: 30000 });
const input = ["a photo of a cat", "a dog"];

const out = {};
// The SDK's default: it asks for base64 and decodes it into numbers.
const byDefault = await client.embeddings.create({ model, input });
out.default = { model: byDefault.model, usage: byDefault.usage, data: byDefault.data.map((d) => ({ index: d.index, embedding: d.embedding })) };
const asFloat = await client.embeddings.create({ model, input, encoding_format: "float" });
out.float = { model: asFloat.model, usage: asFloat.usage, data: asFloat.data.map((d) => ({ index: d.index, embedding: d.embedding })) };
out.models = [];
for await (const m of client.models.list()) {
  out.models.push(m.id);
}
try {
  await client.embeddings.create({ model: "text-embedding-3-small", input: "a dog" });
  out.unknownModel = { status: 0 };
} catch (err) {
  out.unknownModel = { status: err.status, code: err.code, param: err.param, message: err.message };
}
process.stdout.write(JSON.stringify(out));
