// What the console shows: the keys page for a signed-in user, otherwise the sign-in view.

import type { ConsoleApi } from "./api";
import { button, el } from "./dom";
import { asApiError, describeError } from "./errors";
import { KeysPage } from "./page";
import type { ClipboardWriter } from "./secret_panel";
import { showSignIn } from "./sign_in";

export interface ConsoleAppOptions {
  root: HTMLElement;
  api: ConsoleApi;
  clipboard?: ClipboardWriter | null;
}

export class ConsoleApp {
  page: KeysPage | null = null;

  constructor(private readonly options: ConsoleAppOptions) {}

  async start(): Promise<void> {
    const { root, api } = this.options;
    this.page = null;
    try {
      const user = await api.me();
      const pageOptions = {
        root,
        api,
        user,
        onSessionEnded: () => {
          void this.start();
        },
        onSignedOut: () => {
          void this.start();
        },
      };
      this.page = new KeysPage(
        this.options.clipboard !== undefined
          ? { ...pageOptions, clipboard: this.options.clipboard }
          : pageOptions,
      );
      this.page.start();
    } catch (caught) {
      if (asApiError(caught).status === 401) {
        await showSignIn({
          root,
          api,
          onSignedIn: () => {
            void this.start();
          },
        });
        return;
      }
      root.replaceChildren(
        el(
          "main",
          { class: "page page-narrow" },
          el("h1", {}, "Manage Model Access Keys"),
          el(
            "p",
            { class: "error-message", role: "alert" },
            describeError(caught, "load-account"),
          ),
          button(
            "Try again",
            () => {
              void this.start();
            },
            { class: "button" },
          ),
        ),
      );
    }
  }
}
