package io.hangar.frontend.http.s3;

import java.io.ByteArrayInputStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** The XML S3 speaks: a small writer for responses and a DOM reader (no DTDs, no entities) for requests. */
final class Xml {
    static final String NS = "http://s3.amazonaws.com/doc/2006-03-01/";
    private static final DateTimeFormatter ISO = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final StringBuilder sb = new StringBuilder(256);
    private final List<String> open = new ArrayList<>();

    private Xml() {
    }

    /** A document whose root element is {@code root} in the S3 namespace. */
    static Xml doc(String root) {
        Xml x = new Xml();
        x.sb.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<").append(root).append(" xmlns=\"").append(NS)
                .append("\">");
        x.open.add(root);
        return x;
    }

    Xml start(String name) {
        sb.append('<').append(name).append('>');
        open.add(name);
        return this;
    }

    Xml end() {
        String name = open.remove(open.size() - 1);
        sb.append("</").append(name).append('>');
        return this;
    }

    Xml elem(String name, Object value) {
        if (value == null) {
            return this;
        }
        sb.append('<').append(name).append('>');
        escape(String.valueOf(value));
        sb.append("</").append(name).append('>');
        return this;
    }

    @Override
    public String toString() {
        while (!open.isEmpty()) {
            end();
        }
        return sb.toString();
    }

    private void escape(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&apos;");
                case '\r' -> sb.append("&#13;");
                default -> {
                    if (c < 0x20 && c != '\t' && c != '\n') {
                        sb.append("&#").append((int) c).append(';');
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
    }

    static String time(long epochNs) {
        return ISO.format(Instant.ofEpochSecond(0, epochNs));
    }

    static String error(String code, String message, String resource, String requestId) {
        return doc("Error").elem("Code", code).elem("Message", message).elem("Resource", resource)
                .elem("RequestId", requestId).toString().replace(" xmlns=\"" + NS + "\"", "");
    }

    /** Parses a request body; DTDs and external entities are refused. */
    static Element parse(byte[] body) throws S3Error {
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(true);
            f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            f.setXIncludeAware(false);
            f.setExpandEntityReferences(false);
            DocumentBuilder b = f.newDocumentBuilder();
            b.setErrorHandler(null);
            Document d = b.parse(new ByteArrayInputStream(body));
            return d.getDocumentElement();
        } catch (Exception e) {
            throw S3Error.malformedXml(String.valueOf(e.getMessage()));
        }
    }

    /** The child elements of {@code e} with local name {@code name}. */
    static List<Element> children(Element e, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && name.equals(local(c))) {
                out.add(c);
            }
        }
        return out;
    }

    static String text(Element e, String name) {
        List<Element> c = children(e, name);
        return c.isEmpty() ? null : c.get(0).getTextContent().trim();
    }

    static String local(Element e) {
        return e.getLocalName() != null ? e.getLocalName() : e.getTagName();
    }
}
