// MSBuild task compiled by RoslynCodeTaskFactory (see build/LibTorchNatives.targets).
// TorchSharp's native bridge (libLibTorchSharp.so) is built with GCC 13 and lists the symbol
// version GLIBCXX_3.4.32 in its version-needs table only because <iostream> references
// std::ios_base_library_init. Older libstdc++ (Debian 12 ships up to GLIBCXX_3.4.30) lacks that
// version, so dlopen fails although no relocation ever binds the symbol. Setting VER_FLG_WEAK on
// that one Vernaux entry makes the loader accept its absence. Only copies in an output or publish
// folder are patched, never the NuGet cache: the patched bytes go to a fresh file that replaces the
// copy, so a hard link to the cache would be broken rather than written through.
using System;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

public sealed class WeakenElfVersionNeed : Task
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>ELF shared objects to inspect (files that are absent are skipped).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version name whose Vernaux entry becomes weak, e.g. GLIBCXX_3.4.32.</summary>
    [Required]
    public string VersionName { get; set; } = "";

    public override bool Execute()
    {
        foreach (ITaskItem item in Files)
        {
            string path = item.GetMetadata("FullPath");
            if (!File.Exists(path))
            {
                continue;
            }
            try
            {
                long offset = FindFlagsOffset(path, VersionName, out ushort flags);
                if (offset < 0 || (flags & VerFlgWeak) != 0)
                {
                    continue; // nothing needs that version, or already weak: idempotent
                }
                Rewrite(path, offset, (ushort)(flags | VerFlgWeak));
                Log.LogMessage(MessageImportance.Normal, $"Marked {VersionName} weak in {path}");
            }
            catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
            {
                Log.LogError($"Could not mark {VersionName} weak in '{path}': {e.Message}. "
                    + "Delete the output folder and build again; see docs/torchsharp.md.");
                return false;
            }
        }
        return !Log.HasLoggedErrors;
    }

    /// <summary>File offset of vna_flags of the Vernaux naming <paramref name="version"/>, or -1.</summary>
    private static long FindFlagsOffset(string path, string version, out ushort flags)
    {
        flags = 0;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        using var reader = new BinaryReader(stream);
        byte[] ident = reader.ReadBytes(16);
        if (ident.Length < 16 || ident[0] != 0x7f || ident[1] != (byte)'E' || ident[2] != (byte)'L' || ident[3] != (byte)'F')
        {
            return -1; // not ELF (e.g. a Windows or macOS native): nothing to do
        }
        if (ident[4] != 2 || ident[5] != 1)
        {
            return -1; // only 64-bit little-endian objects are produced for linux-x64
        }
        stream.Position = 0x28;
        long shoff = reader.ReadInt64();
        stream.Position = 0x3A;
        ushort shentsize = reader.ReadUInt16();
        ushort shnum = reader.ReadUInt16();
        if (shoff <= 0 || shnum == 0 || shentsize < 64)
        {
            return -1;
        }

        long verneedOffset = -1, verneedSize = 0;
        uint verneedCount = 0, strtabIndex = 0;
        for (int i = 0; i < shnum; i++)
        {
            stream.Position = shoff + (long)i * shentsize;
            reader.ReadUInt32(); // sh_name
            uint type = reader.ReadUInt32();
            if (type != ShtGnuVerneed)
            {
                continue;
            }
            reader.ReadUInt64(); // sh_flags
            reader.ReadUInt64(); // sh_addr
            verneedOffset = reader.ReadInt64();
            verneedSize = reader.ReadInt64();
            strtabIndex = reader.ReadUInt32(); // sh_link: the string table of the names
            verneedCount = reader.ReadUInt32(); // sh_info: number of Verneed entries
            break;
        }
        if (verneedOffset < 0 || strtabIndex >= shnum)
        {
            return -1;
        }
        stream.Position = shoff + (long)strtabIndex * shentsize + 24;
        long strtabOffset = reader.ReadInt64();
        long strtabSize = reader.ReadInt64();

        long need = verneedOffset;
        for (uint n = 0; n < verneedCount; n++)
        {
            if (need < verneedOffset || need + 16 > verneedOffset + verneedSize)
            {
                throw new InvalidDataException("the .gnu.version_r section is malformed");
            }
            stream.Position = need;
            reader.ReadUInt16(); // vn_version
            ushort auxCount = reader.ReadUInt16();
            reader.ReadUInt32(); // vn_file
            uint auxNext = reader.ReadUInt32();
            uint needNext = reader.ReadUInt32();
            long aux = need + auxNext;
            for (int a = 0; a < auxCount; a++)
            {
                if (aux + 16 > verneedOffset + verneedSize)
                {
                    throw new InvalidDataException("a Vernaux entry lies outside .gnu.version_r");
                }
                ushort auxFlags = ReadUInt16At(reader, aux + 4);
                uint nameIndex = ReadUInt32At(reader, aux + 8);
                uint next = ReadUInt32At(reader, aux + 12);
                if (nameIndex < strtabSize && ReadCString(reader, strtabOffset + nameIndex) == version)
                {
                    flags = auxFlags;
                    return aux + 4;
                }
                if (next == 0)
                {
                    break;
                }
                aux += next;
            }
            if (needNext == 0)
            {
                break;
            }
            need += needNext;
        }
        return -1;
    }

    private static ushort ReadUInt16At(BinaryReader reader, long offset)
    {
        reader.BaseStream.Position = offset;
        return reader.ReadUInt16();
    }

    private static uint ReadUInt32At(BinaryReader reader, long offset)
    {
        reader.BaseStream.Position = offset;
        return reader.ReadUInt32();
    }

    private static string ReadCString(BinaryReader reader, long offset)
    {
        reader.BaseStream.Position = offset;
        var builder = new StringBuilder();
        for (int b = reader.ReadByte(); b != 0 && builder.Length < 256; b = reader.ReadByte())
        {
            builder.Append((char)b);
        }
        return builder.ToString();
    }

    /// <summary>Writes the patched bytes to a new file that replaces <paramref name="path"/>,
    /// keeping its timestamp so incremental copies (size + time) still see it as up to date.</summary>
    private static void Rewrite(string path, long flagsOffset, ushort newFlags)
    {
        DateTime stamp = File.GetLastWriteTimeUtc(path);
        string temp = path + ".weak-tmp";
        File.Copy(path, temp, overwrite: true);
        using (var stream = new FileStream(temp, FileMode.Open, FileAccess.Write, FileShare.None))
        {
            stream.Position = flagsOffset;
            stream.WriteByte((byte)(newFlags & 0xff));
            stream.WriteByte((byte)(newFlags >> 8));
        }
        File.Delete(path);
        File.Move(temp, path);
        File.SetLastWriteTimeUtc(path, stamp);
    }
}
