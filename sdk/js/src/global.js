// The classic-script build: one <script> tag defines window.Vekst.createClient.
import { createClient } from "./client.js";

/** @type {typeof globalThis & {Vekst: object}} */ (globalThis).Vekst = { createClient };
