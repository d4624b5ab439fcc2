package dev.firebreak.rules;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.composer.Composer;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.events.AliasEvent;
import org.yaml.snakeyaml.events.CollectionStartEvent;
import org.yaml.snakeyaml.events.Event;
import org.yaml.snakeyaml.events.NodeEvent;
import org.yaml.snakeyaml.events.ScalarEvent;
import org.yaml.snakeyaml.inspector.TagInspector;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.Tag;
import org.yaml.snakeyaml.parser.Parser;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.reader.StreamReader;
import org.yaml.snakeyaml.resolver.Resolver;

/**
 * The one way to read a rules file (SPEC section 2): bytes to a SnakeYAML node tree (never to Java
 * objects), then to immutable rule objects. Every problem found is reported, in file order, as one
 * {@link RulesException}; nothing else is ever thrown.
 */
public final class RulesParser {
  /** A rules file is small; anything larger is refused before parsing. */
  public static final int MAX_BYTES = 1024 * 1024;

  /**
   * Aliases to lists or mappings allowed in one file: enough for sharing, too few for an alias
   * bomb.
   */
  static final int MAX_COLLECTION_ALIASES = 20;

  /** A rules file nests six levels deep (root, targets, target, rules, rule, latency). */
  static final int MAX_NESTING = 20;

  private static final List<String> STANDARD_TAGS =
      List.of(
          Tag.STR.getValue(),
          Tag.INT.getValue(),
          Tag.FLOAT.getValue(),
          Tag.BOOL.getValue(),
          Tag.NULL.getValue(),
          Tag.MAP.getValue(),
          Tag.SEQ.getValue());

  private RulesParser() {}

  /** Reads and validates {@code file}; {@link RuleSet#source()} is {@code file.toString()}. */
  public static RuleSet parse(Path file) throws RulesException {
    String name = String.valueOf(file);
    if (file == null) {
      throw single(name, "cannot read the rules file: no file given");
    }
    // Look before reading: a directory, or a file too large, is refused without reading it.
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (NoSuchFileException e) {
      throw single(name, "cannot read the rules file: no such file");
    } catch (IOException | RuntimeException e) {
      throw single(name, "cannot read the rules file: " + describe(e));
    }
    if (attributes.isDirectory()) {
      throw single(name, "cannot read the rules file: it is a directory, expected a YAML file");
    }
    if (attributes.isRegularFile() && attributes.size() > MAX_BYTES) {
      throw single(
          name, "rules file is " + attributes.size() + " bytes, the limit is " + MAX_BYTES);
    }
    byte[] content;
    // Bounded even if the file grows meanwhile, or is not a regular file (a pipe, /dev/zero).
    try (InputStream in = Files.newInputStream(file)) {
      content = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      throw single(name, "cannot read the rules file: no such file");
    } catch (java.nio.file.AccessDeniedException e) {
      throw single(name, "cannot read the rules file: permission denied");
    } catch (IOException | RuntimeException e) {
      throw single(name, "cannot read the rules file: " + describe(e));
    }
    if (content.length > MAX_BYTES) {
      long size;
      try {
        size = Files.size(file);
      } catch (IOException | RuntimeException e) {
        size = -1;
      }
      throw single(
          name,
          size > MAX_BYTES
              ? "rules file is " + size + " bytes, the limit is " + MAX_BYTES
              : "rules file is more than " + MAX_BYTES + " bytes, the limit is " + MAX_BYTES);
    }
    return parse(name, content);
  }

  /**
   * Validates {@code content}; {@code sourceName} names the file in errors and in {@link
   * RuleSet#source()}.
   */
  public static RuleSet parse(String sourceName, byte[] content) throws RulesException {
    String name = sourceName == null ? "<rules>" : sourceName;
    if (content == null) {
      throw single(name, "empty rules file, expected a mapping with 'version: 1'");
    }
    try {
      return new RulesParser.Run(name, content).run();
    } catch (RulesException e) {
      throw e;
    } catch (Exception | StackOverflowError e) {
      // a bug of ours, or of SnakeYAML, must still come out as a rules error
      throw single(name, "cannot read the rules file: internal error: " + describe(e));
    }
  }

  private static RulesException single(String file, String message) {
    return new RulesException(List.of(new RuleError(file, 1, 1, message)));
  }

  private static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.replaceAll("\\s+", " "));
  }

  /** Lowercase hex SHA-256 of {@code content}, as in {@link RuleSet#sha256()}. */
  public static String sha256(byte[] content) {
    try {
      return java.util.HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Thrown by {@link GuardedParser} to stop reading an alias bomb. */
  private static final class AliasLimitException extends RuntimeException {
    final Mark mark;

    AliasLimitException(Mark mark) {
      super(null, null, false, false);
      this.mark = mark;
    }
  }

  /** The state of one parse. */
  private static final class Run {
    final String file;
    final byte[] content;
    final List<RuleError> errors = new ArrayList<>();

    /** Start marks of nodes already reported for their tag: no second error for the same node. */
    final Set<Mark> reported = Collections.newSetFromMap(new IdentityHashMap<>());

    Run(String file, byte[] content) {
      this.file = file;
      this.content = content;
    }

    RuleSet run() throws RulesException {
      if (content.length > MAX_BYTES) {
        throw single(file, "rules file is " + content.length + " bytes, the limit is " + MAX_BYTES);
      }
      String text = decode();
      Node root = compose(text);
      RuleSet rules = null;
      if (root != null) {
        rules = new SchemaMapper(file, sha256(content), errors, reported).map(root);
      }
      if (!errors.isEmpty()) {
        List<RuleError> sorted = new ArrayList<>(errors);
        sorted.sort(Comparator.comparingInt(RuleError::line).thenComparingInt(RuleError::column));
        throw new RulesException(sorted);
      }
      if (rules == null) {
        throw single(file, "empty rules file, expected a mapping with 'version: 1'");
      }
      return rules;
    }

    /** Strict UTF-8, and only characters YAML allows: a binary file gets one clear error. */
    String decode() throws RulesException {
      CharsetDecoder decoder =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT);
      ByteBuffer in = ByteBuffer.wrap(content);
      CharBuffer out = CharBuffer.allocate(content.length + 1);
      CoderResult result = decoder.decode(in, out, true);
      if (result.isError()) {
        int offset = in.position();
        out.flip();
        int[] pos = position(out.toString(), out.length());
        throw new RulesException(
            List.of(
                new RuleError(
                    file,
                    pos[0],
                    pos[1],
                    String.format(
                        "expected UTF-8 text, found the byte 0x%02X at offset %d; is this a binary file?",
                        content[offset] & 0xff, offset))));
      }
      decoder.flush(out);
      out.flip();
      String text = out.toString();
      if (text.startsWith("\uFEFF")) {
        text = text.substring(1);
      }
      for (int i = 0; i < text.length(); ) {
        int cp = text.codePointAt(i);
        if (!StreamReader.isPrintable(cp)) {
          int[] pos = position(text, i);
          throw new RulesException(
              List.of(
                  new RuleError(
                      file,
                      pos[0],
                      pos[1],
                      String.format(
                          "expected text, found the control character U+%04X; is this a binary file?",
                          cp))));
        }
        i += Character.charCount(cp);
      }
      return text;
    }

    /** 1-based line and column (in code points) of {@code index} in {@code text}. */
    static int[] position(String text, int index) {
      int line = 1;
      int column = 1;
      for (int i = 0; i < index && i < text.length(); i++) {
        char c = text.charAt(i);
        if (c == '\n' || (c == '\r' && (i + 1 >= text.length() || text.charAt(i + 1) != '\n'))) {
          line++;
          column = 1;
        } else if (!Character.isLowSurrogate(c) && c != '\r') {
          column++;
        }
      }
      return new int[] {line, column};
    }

    /** The one document of the file, or null when it has none (errors are in {@link #errors}). */
    Node compose(String text) {
      LoaderOptions options = new LoaderOptions();
      // Both are enforced by SnakeYAML's constructors, which never run here: SchemaMapper reports
      // duplicate keys with both positions, and refuses any key that is not a plain scalar.
      options.setAllowDuplicateKeys(false);
      options.setAllowRecursiveKeys(false);
      options.setMaxAliasesForCollections(MAX_COLLECTION_ALIASES + 1); // GuardedParser stops first
      options.setNestingDepthLimit(MAX_NESTING);
      options.setCodePointLimit(MAX_BYTES);
      options.setProcessComments(false);
      options.setMergeOnCompose(false);
      // Tags are checked by GuardedParser; nothing is ever constructed from them.
      options.setTagInspector(
          new TagInspector() { // a class, not a lambda: no invokedynamic bootstrap at start
            @Override
            public boolean isGlobalTagAllowed(Tag tag) {
              return true;
            }
          });
      GuardedParser parser =
          new GuardedParser(new ParserImpl(new StreamReader(new StringReader(text)), options));
      Composer composer = new Composer(parser, new Resolver(), options);
      try {
        if (!composer.checkNode()) {
          if (errors.isEmpty()) {
            errors.add(
                new RuleError(
                    file, 1, 1, "empty rules file, expected a mapping with 'version: 1'"));
          }
          return null;
        }
        Node root = composer.getNode();
        if (composer.checkNode()) {
          Event second = parser.peekEvent();
          add(
              second.getStartMark(),
              "expected one YAML document, found a second one; a rules file is one document");
        }
        if (root instanceof ScalarNode s && s.getTag().equals(Tag.NULL) && s.getValue().isEmpty()) {
          errors.add(
              new RuleError(file, 1, 1, "empty rules file, expected a mapping with 'version: 1'"));
          return null;
        }
        return root;
      } catch (AliasLimitException e) {
        add(
            e.mark,
            "expected at most "
                + MAX_COLLECTION_ALIASES
                + " aliases to lists or mappings, found more; the limit guards against alias bombs");
      } catch (MarkedYAMLException e) {
        Mark mark = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
        if (mark == null) {
          mark = parser.last;
        }
        StringBuilder m = new StringBuilder("invalid YAML: ");
        m.append(oneLine(e.getProblem() != null ? e.getProblem() : e.getMessage()));
        if (e.getContext() != null && e.getContextMark() != null && e.getContextMark() != mark) {
          m.append(" (")
              .append(oneLine(e.getContext()))
              .append(" started at line ")
              .append(e.getContextMark().getLine() + 1)
              .append(", column ")
              .append(e.getContextMark().getColumn() + 1)
              .append(')');
        }
        add(mark, m.toString());
      } catch (RuntimeException e) {
        // YAMLExceptions without a mark: nesting too deep, code point limit, reader problems
        String message =
            e.getMessage() == null ? e.getClass().getSimpleName() : oneLine(e.getMessage());
        if (message.startsWith("Nesting Depth exceeded")) {
          message =
              "expected at most "
                  + MAX_NESTING
                  + " levels of nested lists and mappings, found more";
        } else {
          message = "invalid YAML: " + message;
        }
        add(parser.last, message);
      }
      return null;
    }

    static String oneLine(String s) {
      return s.replaceAll("\\s+", " ").trim();
    }

    void add(Mark mark, String message) {
      int line = mark == null ? 1 : mark.getLine() + 1;
      int column = mark == null ? 1 : mark.getColumn() + 1;
      errors.add(new RuleError(file, line, column, message));
    }

    /**
     * Sees every event before the composer: reports tags other than the standard ones and stops at
     * the alias limit with the alias's position (SnakeYAML's own limit error has none).
     */
    private final class GuardedParser implements Parser {
      final Parser delegate;
      final Map<String, Boolean> anchorIsCollection = new HashMap<>();
      int collectionAliases;
      Mark last;

      GuardedParser(Parser delegate) {
        this.delegate = delegate;
      }

      @Override
      public boolean checkEvent(Event.ID choice) {
        return delegate.checkEvent(choice);
      }

      @Override
      public Event peekEvent() {
        return delegate.peekEvent();
      }

      @Override
      public Event getEvent() {
        Event e = delegate.getEvent();
        if (e == null) {
          return null;
        }
        last = e.getStartMark();
        if (e instanceof AliasEvent alias) {
          if (Boolean.TRUE.equals(anchorIsCollection.get(alias.getAnchor()))
              && ++collectionAliases > MAX_COLLECTION_ALIASES) {
            throw new AliasLimitException(e.getStartMark());
          }
        } else if (e instanceof NodeEvent node) {
          String tag =
              e instanceof ScalarEvent s ? s.getTag() : ((CollectionStartEvent) e).getTag();
          if (tag != null && !tag.equals("!") && !STANDARD_TAGS.contains(tag)) {
            reported.add(e.getStartMark());
            add(
                e.getStartMark(),
                "expected plain YAML (strings, numbers, booleans, lists, mappings), found the tag "
                    + Text.name(shortTag(tag)));
          }
          if (node.getAnchor() != null) {
            anchorIsCollection.put(node.getAnchor(), e instanceof CollectionStartEvent);
          }
        }
        return e;
      }
    }

    static String shortTag(String tag) {
      return tag.startsWith(Tag.PREFIX) ? "!!" + tag.substring(Tag.PREFIX.length()) : tag;
    }
  }
}
