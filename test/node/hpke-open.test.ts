import { hpkeOpenCases } from "../hpke-open-cases";

hpkeOpenCases("Node WebCrypto");
