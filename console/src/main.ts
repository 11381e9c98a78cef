import "./styles.css";
import { ConsoleApp } from "./app";
import { HttpConsoleApi } from "./api";

const root = document.getElementById("app");
if (root) {
  const api = new HttpConsoleApi((input, init) => fetch(input, init));
  void new ConsoleApp({ root, api }).start();
}
