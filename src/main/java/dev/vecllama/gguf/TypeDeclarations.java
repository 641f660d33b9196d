package dev.vecllama.gguf;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * How a GGUF file declares the vecllama tensor types it uses ({@link GGMLType#isExtension}). The
 * declaration is what lets a reader tell a deliberate vecllama type from a corrupt id, and it spells
 * the layout out, so that a reader can check it means the same bytes by that name:
 * <pre>
 * vecllama.tensor_types            [u32]   the ids used, ascending
 * vecllama.type.ID.name            string  NF4 | NF4_DQ
 * vecllama.type.ID.block_size      u32     weights per block
 * vecllama.type.ID.block_bytes     u32     bytes per block
 * vecllama.type.ID.group_blocks    u32     blocks per group of a row, 0 if rows have no groups
 * vecllama.type.ID.group_bytes     u32     bytes before each group (the last may hold fewer blocks)
 * </pre>
 */
final class TypeDeclarations {
    static final String LIST = "vecllama.tensor_types";
    private static final String PREFIX = "vecllama.type.";

    private TypeDeclarations() {}

    /**
     * The declared types this reader knows, by id. A declared id it does not know is left out (its
     * tensors fail when used, like any unknown type); a known id declared with another name or layout
     * is a contradiction in the file and fails now.
     */
    static Map<Integer, GGMLType> read(GGUFFile f) {
        Map<Integer, GGMLType> known = new LinkedHashMap<>();
        int[] ids = f.getIntArray(LIST);
        if (ids == null) return known;
        for (int id : ids) {
            if (GGMLType.byId(id) != null) {
                throw new GGUFFormatException(LIST + " lists " + id + ", which is ggml's " + GGMLType.byId(id) + ", not a vecllama type");
            }
            GGMLType t = GGMLType.extension(id);
            if (t == null) continue;
            String key = PREFIX + Integer.toUnsignedString(id);
            String name = f.getString(key + ".name");
            if (!name.equals(t.name())) {
                throw new GGUFFormatException(key + ".name is " + name + ", but vecllama's type " + Integer.toUnsignedString(id) + " is " + t);
            }
            check(f, key, "block_size", t.blockSize, t);
            check(f, key, "block_bytes", t.typeSize, t);
            check(f, key, "group_blocks", t.groupBlocks, t);
            check(f, key, "group_bytes", t.groupBytes, t);
            known.put(id, t);
        }
        return known;
    }

    private static void check(GGUFFile f, String key, String field, int ours, GGMLType t) {
        long declared = f.getLong(key + "." + field);
        if (declared != ours) {
            throw new GGUFFormatException(key + "." + field + " is " + declared + ", but vecllama's " + t + " has " + ours);
        }
    }

    /**
     * {@code md} with exactly the declarations of the vecllama types in {@code used}: ones copied
     * from an input file whose types are gone would claim types the file does not hold.
     */
    static Map<String, MetadataValue> declare(Map<String, MetadataValue> md, Collection<GGMLType> used) {
        Map<String, MetadataValue> out = new LinkedHashMap<>(md);
        out.keySet().removeIf(k -> k.equals(LIST) || k.startsWith(PREFIX));
        TreeSet<Integer> ids = new TreeSet<>();
        for (GGMLType t : used) if (t.isExtension()) ids.add(t.id);
        if (ids.isEmpty()) return out;
        out.put(LIST, MetadataValue.array(ValueType.UINT32, ids.stream().mapToInt(Integer::intValue).toArray()));
        for (int id : ids) {
            GGMLType t = GGMLType.extension(id);
            String key = PREFIX + Integer.toUnsignedString(id);
            out.put(key + ".name", MetadataValue.string(t.name()));
            out.put(key + ".block_size", MetadataValue.uint32(t.blockSize));
            out.put(key + ".block_bytes", MetadataValue.uint32(t.typeSize));
            out.put(key + ".group_blocks", MetadataValue.uint32(t.groupBlocks));
            out.put(key + ".group_bytes", MetadataValue.uint32(t.groupBytes));
        }
        return out;
    }
}
