// The classic-script build: one <script> tag defines window.Vekst.createClient.
import { createClient } from "./client.js";

globalThis.Vekst = { createClient };
