package com.acme.chat.replay;

import java.util.List;

public final class Replay {
    public static int main(List<String> args) { return 0; }
}
