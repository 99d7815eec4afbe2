import { hpkeOpenCases } from "../hpke-open-cases";

hpkeOpenCases("workerd WebCrypto");
